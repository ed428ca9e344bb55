package externalsecret

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestGenerator_GetParametersAreTheQueryOfTheGet: ESO v2's getParameters
// reach the server as the query string of a VaultDynamicSecret's GET: asking
// a KV v2 path for version 1 returns the first value though a second exists.
func TestGenerator_GetParametersAreTheQueryOfTheGet(t *testing.T) {
	t.Parallel() // own namespace, generator and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	createSecret(t, ns, "dynamic-token", map[string]string{"token": env.Vault.Token})
	p := kvPath(t, "versioned")
	putKV(t, p, map[string]any{"k": "first"})
	putKV(t, p, map[string]any{"k": "second"})
	createDynamic(t, ns, "v1", "secret/data/"+p[len("secret/"):], func(s *v1alpha1.VaultDynamicSecretSpec) {
		s.GetParameters = map[string][]string{"version": {"1"}}
	})
	createES(t, newES(ns, "v1", "vault", withGenerator("VaultDynamicSecret", "v1")))
	waitReady(t, ns, "v1", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "v1")).To(HaveKeyWithValue("data", `{"k":"first"}`))
}
