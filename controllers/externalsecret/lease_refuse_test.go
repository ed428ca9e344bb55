package externalsecret

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestLease_AGeneratorNeverReachesTheServersConfiguration(t *testing.T) {
	t.Parallel() // own namespace and generators
	tests := []struct {
		name, path, method, want string
	}{
		{"sys/ is refused", "sys/policies/acl/root", "GET", "the server's configuration (sys/)"},
		{"sys/ behind an OpenBao/Vault namespace prefix is refused", "team-a/sys/policies/acl/root", "GET", "the server's configuration (sys/)"},
		{"auth/ without resultType Auth is refused", "auth/kubernetes/config", "GET", "served only with resultType Auth"},
		{"DELETE is refused", "database/creds/app", "DELETE", "creates no secret"},
	}
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			name := "gen-" + string(rune('a'+i))
			createDynamic(t, ns, name, tt.path, func(s *v1alpha1.VaultDynamicSecretSpec) { s.Method = tt.method })
			createES(t, newES(ns, name, "vault", withGenerator("VaultDynamicSecret", name)))
			es := waitReady(t, ns, name, metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec)
			g.Expect(readyMessage(es)).To(ContainSubstring(tt.want))
			g.Expect(getSecret(t, ns, name)).To(BeNil())
		})
	}
}

func TestLease_AVaultDynamicSecretOfAnotherControllerClassIsNotIssued(t *testing.T) {
	t.Parallel() // own namespace, database role and generator
	g := NewWithT(t)
	ns := newNamespace(t)
	role := dbRole(t, ns, time.Hour, 2*time.Hour)
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	createDynamic(t, ns, "db", "database/creds/"+role, func(s *v1alpha1.VaultDynamicSecretSpec) { s.Controller = "another-class" })
	createES(t, newES(ns, "app", "vault", withGenerator("VaultDynamicSecret", "db")))
	es := waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonStoreNotAllowed)
	g.Expect(readyMessage(es)).To(ContainSubstring(`controller class "another-class"`))
	g.Expect(es.Status.Generated).To(BeEmpty(), "no credential was issued")
	g.Expect(es.Finalizers).NotTo(ContainElement("baosync.io/revoke-leases"))
}
