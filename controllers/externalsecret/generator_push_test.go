package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestGenerator_PushSecretPushesAGeneratedPasswordAndKeepsIt is ESO's
// "generate a password and push it to Vault" pattern: the password reaches
// KV, and refreshes push the same one again.
func TestGenerator_PushSecretPushesAGeneratedPasswordAndKeepsIt(t *testing.T) {
	t.Parallel() // own namespace, store, generator and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	createPassword(t, ns, "pw", 28)
	remoteKey := kvPath(t, "pushed")[len("secret/"):]
	ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: ns}, Spec: v1alpha1.PushSecretSpec{
		SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault", Kind: v1alpha1.SecretStoreKindNamespaced}},
		Selector:        v1alpha1.PushSecretSelector{GeneratorRef: &v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}},
		Data: []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "password",
			RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remoteKey, Property: "password"}}}},
		RefreshInterval: &metav1.Duration{Duration: time.Second}}}
	g.Expect(k8s.Create(ctx, ps)).To(Succeed())

	pushed := func(g Gomega) string {
		s, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/"+remoteKey)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s).NotTo(BeNil())
		data, _ := s.Data["data"].(map[string]any)
		v, _ := data["password"].(string)
		g.Expect(v).NotTo(BeEmpty())
		return v
	}
	var first string
	g.Eventually(func(g Gomega) { first = pushed(g) }, eventually, poll).Should(Succeed())
	leak.Secret(first)
	g.Expect([]rune(first)).To(HaveLen(28))

	// Refreshes every second push the kept password, not a new one.
	var before metav1.Time
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(ps.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
		before = ps.Status.RefreshTime
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
		g.Expect(ps.Status.RefreshTime.After(before.Time)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	g.Eventually(pushed, eventually, poll).Should(Equal(first))
}

// TestGenerator_APushSecretAppliedBeforeItsGeneratorPushesWhenItAppears: a
// GitOps tool may apply the PushSecret first; it waits with GeneratorNotFound
// and pushes as soon as the generator is created, not at its next retry.
func TestGenerator_APushSecretAppliedBeforeItsGeneratorPushesWhenItAppears(t *testing.T) {
	t.Parallel() // own namespace, store, generator and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	remoteKey := kvPath(t, "pushed-late")[len("secret/"):]
	ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: ns}, Spec: v1alpha1.PushSecretSpec{
		SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault", Kind: v1alpha1.SecretStoreKindNamespaced}},
		Selector:        v1alpha1.PushSecretSelector{GeneratorRef: &v1alpha1.GeneratorRef{Kind: "Password", Name: "late"}},
		Data: []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "password",
			RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remoteKey, Property: "password"}}}}}}
	g.Expect(k8s.Create(ctx, ps)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
		c := meta.FindStatusCondition(ps.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonGeneratorNotFound))
	}, eventually, poll).Should(Succeed())

	createPassword(t, ns, "late", 20)
	const sooner = 20 * time.Second // less than the 30 s retry of a missing generator
	g.Eventually(func(g Gomega) {
		s, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/"+remoteKey)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s).NotTo(BeNil())
		data, _ := s.Data["data"].(map[string]any)
		v, _ := data["password"].(string)
		leak.Secret(v)
		g.Expect([]rune(v)).To(HaveLen(20))
	}, sooner, poll).Should(Succeed())
}
