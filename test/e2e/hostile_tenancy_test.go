package e2e

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Issue 23: a shared ClusterSecretStore with a tenancy section. The attacker
// owns a namespace, every object in it, and here even its namespace's
// labels; it must reach neither the victim's prefix nor its identity.
func TestHostile_SharedStoreTenantsCannotReachAnotherNamespaceByRelabellingOrAnyField(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	victim, attacker := tenant(t, "tn-victim"), tenant(t, "tn-attacker")
	label(t, victim, "team", "blue")
	label(t, attacker, "team", "red")
	for _, ns := range []string{victim, attacker} {
		g.Expect(env.TenantKubernetesRole(ctx, "ns-"+ns, ns, "baosync")).To(Succeed())
		g.Expect(env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "baosync", Namespace: ns}})).To(Succeed())
	}
	const secretValue = "victim-db-password-4711"
	victimKey := "apps/" + victim + "/blue/db"
	g.Expect(env.KVPut(ctx, "secret/"+victimKey, map[string]any{"password": secretValue})).To(Succeed())
	role, path := "ns-{namespace}", "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "teams-" + victim}, Spec: v1alpha1.SecretStoreSpec{
		Controller: hostileClass, RefreshInterval: 10,
		Tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: &role},
			PathPrefix: "apps/{namespace}/{label:team}/"},
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "unused"}}}}}}
	g.Expect(env.Client.Create(ctx, css)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), css) })

	own := es(victim, "own", css.Name, victimKey, "password")
	own.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
	g.Expect(env.Client.Create(ctx, own)).To(Succeed())
	waitES(t, own, v1alpha1.ReasonSecretSynced)

	// The attacker relabels its namespace as the victim's team: its prefix
	// moves within its own name, never onto the victim's.
	label(t, attacker, "team", "blue")
	attacks := map[string]func(*v1alpha1.ExternalSecret){
		"key": func(*v1alpha1.ExternalSecret) {},
		"dotdot": func(e *v1alpha1.ExternalSecret) {
			e.Spec.Data[0].RemoteRef.Key = "apps/" + attacker + "/blue/../../" + victim + "/blue/db"
		},
		"encoded": func(e *v1alpha1.ExternalSecret) {
			e.Spec.Data[0].RemoteRef.Key = "apps/" + attacker + "%2F..%2F" + victim + "/blue/db"
		},
		"apiform": func(e *v1alpha1.ExternalSecret) { e.Spec.Data[0].RemoteRef.Key = "secret/data/" + victimKey },
		"metadata": func(e *v1alpha1.ExternalSecret) {
			e.Spec.Data[0].RemoteRef.MetadataPolicy, e.Spec.Data[0].RemoteRef.Property = "Fetch", ""
		},
		"find": func(e *v1alpha1.ExternalSecret) {
			root := "apps/" + victim
			e.Spec.Data = nil
			e.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Find: &v1alpha1.ExternalSecretFind{Path: &root}}}
		},
		"extract": func(e *v1alpha1.ExternalSecret) {
			e.Spec.Data = nil
			e.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: victimKey}}}
		},
		"sourceref": func(e *v1alpha1.ExternalSecret) {
			e.Spec.Data[0].SourceRef = &v1alpha1.StoreSourceRef{StoreRef: v1alpha1.SecretStoreRef{Name: css.Name, Kind: v1alpha1.SecretStoreKindCluster}}
		},
	}
	var attempts []*v1alpha1.ExternalSecret
	for name, mod := range attacks {
		e := es(attacker, name, css.Name, victimKey, "password")
		e.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
		mod(e)
		g.Expect(env.Client.Create(ctx, e)).To(Succeed(), name)
		attempts = append(attempts, e)
	}
	for _, e := range attempts {
		msg := waitES(t, e, v1alpha1.ReasonPermissionDenied)
		g.Expect(msg).To(ContainSubstring("apps/%s/blue/", attacker), "%s: %s", e.Name, msg)
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: attacker, Name: e.Name}, &corev1.Secret{})).NotTo(Succeed(), e.Name)
	}

	// A store of its own cannot name the victim's ServiceAccount either.
	victimNS := victim
	own2 := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "borrow", Namespace: attacker}, Spec: v1alpha1.SecretStoreSpec{
		Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "ns-" + victim,
				ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "baosync", Namespace: &victimNS}}}}}}}
	g.Expect(env.Client.Create(ctx, own2)).To(Succeed())
	waitStore(t, own2, v1alpha1.ReasonInvalidStoreConfig)

	// Only the victim's namespace ever logged in as the victim's role.
	roles, err := env.TokenRoles(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	for _, r := range roles {
		if r["role"] == "ns-"+victim {
			g.Expect(r["service_account_namespace"]).To(Equal(victim))
		}
		g.Expect(r["service_account_namespace"] == attacker && r["role"] != "ns-"+attacker).To(BeFalse(), "attacker logged in as %v", r)
	}
	expectNoLeak(t, attacker, secretValue)
	waitES(t, own, v1alpha1.ReasonSecretSynced)
	expectOperatorHealthy(t)
}

// label sets a label on a namespace, as the tenant of a cluster that lets
// tenants label their own namespaces could.
func label(t *testing.T, ns, key, value string) {
	t.Helper()
	g := NewWithT(t)
	n := &corev1.Namespace{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: ns}, n)).To(Succeed())
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[key] = value
	g.Expect(env.Client.Update(context.Background(), n)).To(Succeed())
}
