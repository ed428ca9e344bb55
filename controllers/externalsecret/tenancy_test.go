package externalsecret

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// sharedStore creates a ClusterSecretStore on the secret/ mount with auth and
// tenancy, usable from namespaces, and deletes it after the test.
func sharedStore(t *testing.T, name string, auth v1alpha1.VaultAuth, tenancy *v1alpha1.StoreTenancy, namespaces ...string) {
	t.Helper()
	path := "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.SecretStoreSpec{
		Tenancy:         tenancy,
		RefreshInterval: 10, // status.tenancy is refreshed at most this often
		Conditions:      []v1alpha1.ClusterSecretStoreCondition{{Namespaces: namespaces}},
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Version: v1alpha1.VaultKVStoreV2, Auth: auth}}}}
	NewWithT(t).Expect(k8s.Create(context.Background(), css)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), css) })
}

// serviceAccount creates ServiceAccount ns/name.
func serviceAccount(t *testing.T, ns, name string) {
	t.Helper()
	NewWithT(t).Expect(k8s.Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})).To(Succeed())
}

// onShared is an ExternalSecret option that reads from ClusterSecretStore store.
func onShared(store string) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.SecretStoreRef = v1alpha1.SecretStoreRef{Name: store, Kind: v1alpha1.SecretStoreKindCluster}
	}
}

// TestTenancy_OneStoreServesThreeNamespacesEachAsItself: one ClusterSecretStore
// with a tenancy section, Kubernetes auth reviewed by the test API server, a
// role and a policy per namespace with 30 s tokens. Each namespace reads its
// own prefix as its own identity; every way out of the prefix is refused by
// the operator before a request; a namespace without the ServiceAccount gets
// AuthFailed, is listed on the store, and the others keep working.
func TestTenancy_OneStoreServesThreeNamespacesEachAsItself(t *testing.T) {
	t.Parallel() // own namespaces, store, roles and KV paths
	g := NewWithT(t)
	ctx := testCtx(t)
	a, b, c := newNamespace(t), newNamespace(t), newNamespace(t)
	for _, ns := range []string{a, b, c} {
		g.Expect(env.TenantKubernetesRole(ctx, "ns-"+ns, ns, "baosync")).To(Succeed())
	}
	serviceAccount(t, a, "baosync")
	serviceAccount(t, b, "baosync") // c has none
	role := "ns-{namespace}"
	store := "tenancy-" + a
	sharedStore(t, store, v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "unused"}},
		&v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: &role}, PathPrefix: "apps/{namespace}/"}, a, b, c)
	for _, ns := range []string{a, b} {
		putKV(t, "secret/apps/"+ns+"/db", map[string]any{"password": leak.Secret("tenancy-pw-" + ns)})
	}

	for _, ns := range []string{a, b} {
		createES(t, newES(ns, "own", store, onShared(store), withData("password", "apps/"+ns+"/db", "password")))
	}
	for _, ns := range []string{a, b} {
		waitReady(t, ns, "own", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
		g.Expect(secretData(t, ns, "own")).To(Equal(map[string]string{"password": "tenancy-pw-" + ns}))
	}

	// Every way to name b's secret from a is refused by the operator itself.
	outside := map[string]string{
		"other":    "apps/" + b + "/db",
		"mount":    "secret/apps/" + b + "/db",
		"apiform":  "secret/data/apps/" + b + "/db",
		"absolute": "/apps/" + b + "/db",
		"dotdot":   "apps/" + a + "/../" + b + "/db",
		"encoded":  "apps/" + a + "/%2e%2e/" + b + "/db",
		"sep":      "apps%2F" + b + "/db",
	}
	for name, key := range outside {
		createES(t, newES(a, name, store, onShared(store), withData("password", key, "password")))
	}
	findRoot := "apps/" + b
	createES(t, newES(a, "find", store, onShared(store), func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Find: &v1alpha1.ExternalSecretFind{Path: &findRoot}}}
	}))
	for name := range outside {
		es := waitReady(t, a, name, metav1.ConditionFalse, v1alpha1.ReasonPermissionDenied)
		g.Expect(readyMessage(es)).To(ContainSubstring("the only part of the mount this store lets namespace %q reach", a))
		g.Expect(getSecret(t, a, name)).To(BeNil())
	}
	waitReady(t, a, "find", metav1.ConditionFalse, v1alpha1.ReasonPermissionDenied)

	// A PushSecret of a cannot write into b's prefix either.
	createSecret(t, a, "src", map[string]string{"k": "pushed-value"})
	ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: a}, Spec: v1alpha1.PushSecretSpec{
		SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: store, Kind: v1alpha1.SecretStoreKindCluster}},
		Selector:        v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
		Data: []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "k",
			RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: "apps/" + b + "/pushed", Property: "k"}}}}}}
	g.Expect(k8s.Create(ctx, ps)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
		cond := meta.FindStatusCondition(ps.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Reason).To(Equal(v1alpha1.ReasonPermissionDenied), cond.Message)
	}, eventually, poll).Should(Succeed())
	pushed, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/apps/"+b+"/pushed")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pushed).To(BeNil(), "a's PushSecret wrote into b's prefix")

	// c has no ServiceAccount: its object says so, the store lists it, a and b go on.
	createES(t, newES(c, "own", store, onShared(store), withData("password", "apps/"+c+"/db", "password")))
	es := waitReady(t, c, "own", metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
	g.Expect(readyMessage(es)).To(ContainSubstring("ServiceAccount %s/baosync", c))
	g.Eventually(func(g Gomega) {
		css := &v1alpha1.ClusterSecretStore{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: store}, css)).To(Succeed())
		g.Expect(css.Status.Tenancy).NotTo(BeNil())
		g.Expect(css.Status.Tenancy.Namespaces).To(Equal(3))
		g.Expect(css.Status.Tenancy.Failed).To(ConsistOf(And(HaveField("Namespace", c), HaveField("Reason", v1alpha1.ReasonAuthFailed))))
		g.Expect(meta.IsStatusConditionTrue(css.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
	}, 2*eventually, poll).Should(Succeed())
	putKV(t, "secret/apps/"+a+"/db", map[string]any{"password": leak.Secret("tenancy-pw2-" + a)})
	update(t, waitReady(t, a, "own", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced), func(es *v1alpha1.ExternalSecret) {
		es.Spec.Data[0].SecretKey = "pw"
	})
	g.Eventually(func() map[string]string { return secretData(t, a, "own") }, eventually, poll).Should(HaveKeyWithValue("pw", "tenancy-pw2-"+a))

	// The server saw two identities, each its own namespace's role and ServiceAccount.
	roles, err := env.TokenRoles(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	for _, ns := range []string{a, b} {
		g.Expect(roles).To(ContainElement(And(HaveKeyWithValue("role", "ns-"+ns), HaveKeyWithValue("service_account_namespace", ns),
			HaveKeyWithValue("service_account_name", "baosync"))), "no token of namespace %s's own identity", ns)
	}
}

// TestTenancy_JWTAuthLogsEachNamespaceInWithItsServiceAccountToken: the same
// store with JWT auth, the API server's ServiceAccount tokens trusted by
// their signing key.
func TestTenancy_JWTAuthLogsEachNamespaceInWithItsServiceAccountToken(t *testing.T) {
	t.Parallel() // own namespaces, store, roles and KV paths
	g := NewWithT(t)
	ctx := testCtx(t)
	a, b := newNamespace(t), newNamespace(t)
	for _, ns := range []string{a, b} {
		g.Expect(env.ServiceAccountJWTRole(ctx, "jwt-"+ns, ns, "baosync")).To(Succeed())
		serviceAccount(t, ns, "baosync")
		putKV(t, "secret/apps/"+ns+"/db", map[string]any{"password": leak.Secret("jwt-tenancy-pw-" + ns)})
	}
	role := "jwt-{namespace}"
	store := "jwt-tenancy-" + a
	sharedStore(t, store, v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{Path: testenv.ServiceAccountJWTMount,
		KubernetesServiceAccountToken: &v1alpha1.VaultKubernetesServiceAccountTokenAuth{ServiceAccountRef: v1alpha1.ServiceAccountSelector{Name: "ignored"}}}},
		&v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: &role}, PathPrefix: "apps/{namespace}"}, a, b)
	for _, ns := range []string{a, b} {
		createES(t, newES(ns, "own", store, onShared(store), withData("password", "apps/"+ns+"/db", "password")))
		createES(t, newES(ns, "other", store, onShared(store), withData("password", "apps/"+map[string]string{a: b, b: a}[ns]+"/db", "password")))
	}
	for _, ns := range []string{a, b} {
		waitReady(t, ns, "own", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
		g.Expect(secretData(t, ns, "own")).To(Equal(map[string]string{"password": "jwt-tenancy-pw-" + ns}))
		waitReady(t, ns, "other", metav1.ConditionFalse, v1alpha1.ReasonPermissionDenied)
	}
	roles, err := env.TokenRoles(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	for _, ns := range []string{a, b} {
		g.Expect(roles).To(ContainElement(HaveKeyWithValue("role", "jwt-"+ns)), "no token of namespace %s's JWT role", ns)
	}
}

// TestReferent_AClusterStoreWithAServiceAccountWithoutNamespaceLogsInAsTheUser:
// ESO's referent authentication, with one Vault role for every namespace and
// a policy templated on the ServiceAccount's namespace, as docs/multi-tenancy.md
// sets it up: each namespace reads its own path, the server refuses the other's.
func TestReferent_AClusterStoreWithAServiceAccountWithoutNamespaceLogsInAsTheUser(t *testing.T) {
	t.Parallel() // own namespaces, store, role and KV paths
	g := NewWithT(t)
	ctx := testCtx(t)
	a, b := newNamespace(t), newNamespace(t)
	g.Expect(env.KubernetesRole(ctx, "unused-"+a, a, "reader")).To(Succeed()) // configures the mount once
	mounts, err := env.VaultClient.Sys().ListAuthWithContext(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	acc := mounts["kubernetes/"].Accessor
	policy := fmt.Sprintf(`path "secret/data/apps/{{identity.entity.aliases.%s.metadata.service_account_namespace}}/*" { capabilities = ["read"] }`, acc)
	_, err = env.Write(ctx, "sys/policies/acl/referent-"+a, map[string]any{"policy": policy})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = env.Write(ctx, "auth/kubernetes/role/referent-"+a, map[string]any{"bound_service_account_names": "reader",
		"bound_service_account_namespaces": a + "," + b, "audience": "vault", "token_policies": "referent-" + a, "token_ttl": "30s", "token_max_ttl": "10m"})
	g.Expect(err).NotTo(HaveOccurred())
	store := "referent-" + a
	sharedStore(t, store, v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "referent-" + a,
		ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "reader", Audiences: []string{"vault"}}}}, nil, a, b)
	for _, ns := range []string{a, b} {
		serviceAccount(t, ns, "reader")
		putKV(t, "secret/apps/"+ns+"/db", map[string]any{"password": leak.Secret("referent-pw-" + ns)})
		createES(t, newES(ns, "own", store, onShared(store), withData("password", "apps/"+ns+"/db", "password")))
	}
	createES(t, newES(a, "other", store, onShared(store), withData("password", "apps/"+b+"/db", "password")))
	for _, ns := range []string{a, b} {
		waitReady(t, ns, "own", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
		g.Expect(secretData(t, ns, "own")).To(Equal(map[string]string{"password": "referent-pw-" + ns}))
	}
	waitReady(t, a, "other", metav1.ConditionFalse, v1alpha1.ReasonPermissionDenied) // by the server's policy: referent auth sets no prefix
}

// TestTenancy_AClusterGeneratorIssuesEachNamespaceItsCredentialsAsItself: a
// database ClusterGenerator with tenancy and conditions. Each allowed
// namespace logs in with its own ServiceAccount and role (8 s tokens, 30 s max
// TTL), its credentials work and are issued anew under a fresh login before
// the token's max TTL; a namespace the conditions leave out is refused.
func TestTenancy_AClusterGeneratorIssuesEachNamespaceItsCredentialsAsItself(t *testing.T) {
	t.Parallel() // own namespaces, generator, roles
	const ttl, maxTTL = 8 * time.Second, 30 * time.Second
	g := NewWithT(t)
	ctx := testCtx(t)
	a, b, outsider := newNamespace(t), newNamespace(t), newNamespace(t)
	dbrole := dbRole(t, a, 20*time.Second, 2*time.Minute)
	pg := postgres(t)
	for _, ns := range []string{a, b, outsider} {
		serviceAccount(t, ns, "db-user")
		g.Expect(env.DynamicKubernetesRole(ctx, "dyn-"+ns, ns, "db-user", ttl, maxTTL)).To(Succeed())
	}
	role := "dyn-{namespace}"
	cg := &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: "db-" + a}, Spec: v1alpha1.ClusterGeneratorSpec{
		Kind: v1alpha1.GeneratorKindVaultDynamicSecret,
		Generator: v1alpha1.GeneratorSpec{VaultDynamicSecretSpec: &v1alpha1.VaultDynamicSecretSpec{Path: "database/creds/" + dbrole,
			RotationGracePeriod: &metav1.Duration{Duration: 2 * time.Second},
			Provider: &v1alpha1.VaultProvider{Server: env.Vault.Addr,
				Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "unused"}}}}},
		Conditions: []v1alpha1.ClusterSecretStoreCondition{{Namespaces: []string{a, b}}},
		Tenancy:    &v1alpha1.TenantIdentity{ServiceAccountName: "db-user", Role: &role}}}
	g.Expect(k8s.Create(ctx, cg)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), cg) })
	for _, ns := range []string{a, b, outsider} {
		tokenStore(t, ns, "vault")
		createES(t, newES(ns, "db", "vault", withGenerator("ClusterGenerator", cg.Name)))
	}
	waitReady(t, outsider, "db", metav1.ConditionFalse, v1alpha1.ReasonStoreNotAllowed)
	for _, ns := range []string{a, b} {
		waitReady(t, ns, "db", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	}
	roles, err := env.TokenRoles(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	for _, ns := range []string{a, b} {
		g.Expect(roles).To(ContainElement(And(HaveKeyWithValue("role", "dyn-"+ns), HaveKeyWithValue("service_account_namespace", ns))))
	}
	// Past the first login token's max TTL, a's credentials still work: its
	// end woke the generator's users, which issued new ones under a fresh login.
	users := map[string]bool{}
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		data := secretData(t, a, "db")
		leak.Secret(data["password"])
		users[data["username"]] = true
		g.Expect(pg.TryLogin(ctx, data["username"], data["password"])).To(Succeed(), "the Secret held a credential whose login token ended")
	}
	g.Expect(len(users)).To(BeNumerically(">=", 2), "no credential was issued under a fresh login before the first token's max TTL")
}
