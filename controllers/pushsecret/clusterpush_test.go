package pushsecret

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestClusterPushSecret_EveryMatchingNamespacePushesItsOwnSecretAsItsStoreLogsIn:
// ESO v2's ClusterPushSecret against the real Vault. Two namespaces with the
// label get the PushSecret, which pushes each namespace's own Secret through
// that namespace's store (AppRole, 30 s renewable tokens, a KV mount per
// namespace); a namespace that loses the label loses its PushSecret.
func TestClusterPushSecret_EveryMatchingNamespacePushesItsOwnSecretAsItsStoreLogsIn(t *testing.T) {
	t.Parallel() // own namespaces, mounts and ClusterPushSecret
	g := NewWithT(t)
	ctx := context.Background()
	team := fmt.Sprintf("cps-%08x", rand.Uint32())
	_, err := env.Write(ctx, "sys/policies/acl/cps-push", map[string]any{"policy": `path "cps-*" { capabilities = ["create", "read", "update", "delete", "list"] }`})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.EnableOnce(ctx, "approle", "approle", nil)).To(Succeed())
	_, err = env.Write(ctx, "auth/approle/role/cps", map[string]any{"token_policies": "cps-push", "token_ttl": 30, "token_max_ttl": 120})
	g.Expect(err).NotTo(HaveOccurred())
	roleID, err := env.VaultClient.Logical().ReadWithContext(ctx, "auth/approle/role/cps/role-id")
	g.Expect(err).NotTo(HaveOccurred())

	var namespaces []string
	for i := range 2 {
		ns := fmt.Sprintf("%s-%d", team, i)
		namespaces = append(namespaces, ns)
		g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": team}}})).To(Succeed())
		g.Expect(env.EnableOnce(ctx, "kv", ns, map[string]any{"options": map[string]any{"version": "2"}})).To(Succeed())
		secretID, err := env.Write(ctx, "auth/approle/role/cps/secret-id", nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "approle", Namespace: ns},
			StringData: map[string]string{"secret-id": secretID["secret_id"].(string)}})).To(Succeed())
		g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: ns},
			StringData: map[string]string{"token": leak.Secret("cps-token-" + ns)}})).To(Succeed())
		path, id := ns, roleID.Data["role_id"].(string)
		g.Expect(env.Client.Create(ctx, &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "vault", Namespace: ns},
			Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
				Server: env.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
				Auth: v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &id, SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}}}}}})).To(Succeed())
	}
	cps := &v1alpha1.ClusterPushSecret{ObjectMeta: metav1.ObjectMeta{Name: team}, Spec: v1alpha1.ClusterPushSecretSpec{
		PushSecretName:     "shared-push",
		PushSecretMetadata: v1alpha1.ExternalSecretTemplateMetadata{Labels: map[string]string{"app": "api"}},
		NamespaceSelectors: []*metav1.LabelSelector{{MatchLabels: map[string]string{"team": team}}},
		PushSecretSpec: v1alpha1.PushSecretSpec{
			SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault"}},
			Selector:        v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
			Data:            []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "token", RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: "app", Property: "token"}}}},
		}}}
	g.Expect(env.Client.Create(ctx, cps)).To(Succeed())

	for _, ns := range namespaces {
		g.Eventually(func() any {
			s, _ := env.VaultClient.Logical().ReadWithContext(ctx, ns+"/data/app")
			if s == nil {
				return nil
			}
			return s.Data["data"]
		}, wait, 200*time.Millisecond).Should(Equal(map[string]any{"token": "cps-token-" + ns}), "namespace %s pushes its own Secret", ns)
		ps := &v1alpha1.PushSecret{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shared-push"}, ps)).To(Succeed())
		g.Expect(ps.Labels).To(HaveKeyWithValue("app", "api"))
		g.Expect(metav1.IsControlledBy(ps, cps)).To(BeTrue())
	}
	g.Eventually(func() []string {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(cps), cps)
		return cps.Status.ProvisionedNamespaces
	}, wait, 200*time.Millisecond).Should(ConsistOf(namespaces))
	g.Expect(meta.IsStatusConditionTrue(cps.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
	g.Expect(cps.Status.PushSecretName).To(Equal("shared-push"))

	// The second namespace leaves the team: its PushSecret goes.
	left := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: namespaces[1]}, left)).To(Succeed())
	left.Labels["team"] = "other"
	g.Expect(env.Client.Update(ctx, left)).To(Succeed())
	g.Eventually(func() bool {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespaces[1], Name: "shared-push"}, &v1alpha1.PushSecret{})
		return client.IgnoreNotFound(err) == nil && err != nil
	}, wait, 200*time.Millisecond).Should(BeTrue(), "the PushSecret of a namespace no longer selected is deleted")
}
