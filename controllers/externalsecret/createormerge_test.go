package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestCreateOrMerge_CreatesAMissingSecretAndMergesIntoAnExistingOne: ESO
// v2.8's creationPolicy. A missing Secret is created without an owner (and
// created again when deleted); an existing one keeps its other keys and its
// owner; deleting the ExternalSecret leaves the Secret.
func TestCreateOrMerge_CreatesAMissingSecretAndMergesIntoAnExistingOne(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	p := kvPath(t, "com")
	putKV(t, p, map[string]any{"k": leak.Secret("com-value-" + ns)})
	createSecret(t, ns, "existing", map[string]string{"theirs": "kept"})
	cm := func(es *v1alpha1.ExternalSecret) {
		es.Spec.Target.CreationPolicy = v1alpha1.CreationPolicyCreateOrMerge
	}
	createES(t, newES(ns, "existing", "vault", cm, withData("k", p[len("secret/"):], "k")))
	createES(t, newES(ns, "missing", "vault", cm, withData("k", p[len("secret/"):], "k")))
	waitReady(t, ns, "existing", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	waitReady(t, ns, "missing", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "existing")).To(Equal(map[string]string{"theirs": "kept", "k": "com-value-" + ns}))
	created := getSecret(t, ns, "missing")
	g.Expect(created.Data).To(HaveKey("k"))
	g.Expect(created.OwnerReferences).To(BeEmpty(), "CreateOrMerge owns nothing")

	g.Expect(k8s.Delete(ctx, created)).To(Succeed())
	g.Eventually(func() map[string]string { return secretData(t, ns, "missing") }, eventually, poll).Should(HaveKey("k"), "a deleted Secret is created again")
	es := &v1alpha1.ExternalSecret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "missing"}, es)).To(Succeed())
	g.Expect(k8s.Delete(ctx, es)).To(Succeed())
	g.Consistently(func() error { return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "missing"}, &corev1.Secret{}) }, "3s", poll).Should(Succeed(),
		"the Secret went with its ExternalSecret")
}
