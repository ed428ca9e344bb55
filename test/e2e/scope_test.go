package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestNamespaceScope_ServesOnlyItsNamespace runs an operator with --namespace
// and checks that it syncs there and leaves every other namespace alone.
func TestNamespaceScope_ServesOnlyItsNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	suffix := fmt.Sprint(time.Now().UnixNano() % 100000)
	mine, theirs := "mine-"+suffix, "theirs-"+suffix
	op, err := env.StartOperator(ctx, bin, "scoped-operator", "--namespace", mine)
	g.Expect(err).NotTo(HaveOccurred())
	defer op.Stop()
	g.Expect(env.KVPut(ctx, "secret/scope/app", map[string]any{"v": "x"})).To(Succeed())
	for _, ns := range []string{mine, theirs} {
		store(t, ns)
		g.Expect(env.Client.Create(ctx, &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
			Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
				Data: []v1alpha1.ExternalSecretData{{SecretKey: "v", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "scope/app", Property: "v"}}}}})).To(Succeed())
	}
	g.Eventually(func() int { return readyCount(ctx, mine) }, 60*time.Second, 200*time.Millisecond).Should(Equal(1))
	// A PushSecret cannot reach a ClusterSecretStore through a scoped operator
	// either. The store names a class no operator serves, so that the other
	// operators of this package leave the PushSecret alone.
	path := "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "scope-" + suffix}, Spec: v1alpha1.SecretStoreSpec{Controller: "nobody",
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token", Namespace: &mine}}}}}}
	g.Expect(env.Client.Create(ctx, css)).To(Succeed())
	defer func() { _ = env.Client.Delete(ctx, css) }()
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: mine},
		StringData: map[string]string{"pw": "x"}})).To(Succeed())
	ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mine}, Spec: v1alpha1.PushSecretSpec{
		SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: css.Name, Kind: v1alpha1.SecretStoreKindCluster}},
		Selector:        v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
		Data:            []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "pw", RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: "scope/push"}}}}}}
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ps, func() []metav1.Condition { return ps.Status.Conditions }, v1alpha1.ReasonStoreNotAllowed)
	g.Consistently(func(g Gomega) {
		es := &v1alpha1.ExternalSecret{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: theirs, Name: "app"}, es)).To(Succeed())
		g.Expect(es.Status.Conditions).To(BeEmpty())
	}, 3*time.Second, 200*time.Millisecond).Should(Succeed())
}

// TestESOCompat_RefusesToStartWithoutESOsCRDs: --eso-compat on a cluster
// without External Secrets Operator's CRDs stops the operator with a message
// that says so, instead of running without serving what was asked.
func TestESOCompat_RefusesToStartWithoutESOsCRDs(t *testing.T) {
	g := NewWithT(t)
	op, err := env.StartOperator(context.Background(), bin, "eso-compat-without-crds", "--eso-compat")
	g.Expect(err).NotTo(HaveOccurred())
	defer op.Stop()
	g.Eventually(op.Exited, 60*time.Second, 200*time.Millisecond).Should(BeTrue())
	g.Expect(readFile(op.LogPath)).To(ContainSubstring("--eso-compat needs External Secrets Operator's CRDs (SecretStore external-secrets.io/v1)"))
}
