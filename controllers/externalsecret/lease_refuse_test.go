package externalsecret

import (
	"testing"

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
