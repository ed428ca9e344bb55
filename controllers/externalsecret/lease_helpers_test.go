package externalsecret

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// dynamicToken creates, in ns, a Secret "dynamic-token" holding a Vault
// token with the policy "dynamic" (issue, renew and revoke only). Leases
// belong to the token that created them, so it outlives every test.
func dynamicToken(t *testing.T, ns string) {
	t.Helper()
	g := NewWithT(t)
	sec, err := env.VaultClient.Logical().WriteWithContext(context.Background(), "auth/token/create",
		map[string]any{"policies": []string{"dynamic"}, "ttl": "2h", "no_default_policy": true})
	g.Expect(err).NotTo(HaveOccurred())
	createSecret(t, ns, "dynamic-token", map[string]string{"token": sec.Auth.ClientToken})
}

// createDynamic creates a VaultDynamicSecret in ns on path, logging in with
// dynamicToken's token; change adjusts the spec.
func createDynamic(t *testing.T, ns, name, path string, change func(*v1alpha1.VaultDynamicSecretSpec)) {
	t.Helper()
	spec := v1alpha1.VaultDynamicSecretSpec{Path: path, Provider: &v1alpha1.VaultProvider{Server: env.Vault.Addr,
		Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "dynamic-token", Key: "token"}}}}
	if change != nil {
		change(&spec)
	}
	NewWithT(t).Expect(k8s.Create(context.Background(),
		&v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec})).To(Succeed())
}

// jsonParams encodes a VaultDynamicSecret's parameters.
func jsonParams(t *testing.T, m map[string]any) *apiextensionsv1.JSON {
	t.Helper()
	raw, err := json.Marshal(m)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return &apiextensionsv1.JSON{Raw: raw}
}

// postgres returns the suite's PostgreSQL, started on first use.
func postgres(t *testing.T) *testenv.PostgresServer {
	t.Helper()
	pg, err := env.Postgres(context.Background())
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return pg
}

// leaseOf returns the lease ID status.generated shows for the first entry.
func leaseOf(g Gomega, es *v1alpha1.ExternalSecret) string {
	g.Expect(es.Status.Generated).NotTo(BeEmpty())
	return es.Status.Generated[0].LeaseID
}

// leaseFound reports whether Vault still knows the lease.
func leaseFound(t *testing.T, id string) bool {
	t.Helper()
	_, found, err := env.LeaseLookup(context.Background(), id)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return found
}

// dbRole sets up a database role for one test, named after its namespace.
func dbRole(t *testing.T, ns string, ttl, maxTTL time.Duration) string {
	t.Helper()
	role := "r-" + ns
	NewWithT(t).Expect(env.DatabaseRole(context.Background(), role, ttl, maxTTL)).To(Succeed())
	return role
}
