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

// TestMetadata_TheSecretCarriesTheExternalSecretsLabelsWithoutATemplate syncs
// an ExternalSecret labelled as kustomize, Helm and Reloader label it, as ESO
// does: without target.template its labels and annotations reach the Secret.
func TestMetadata_TheSecretCarriesTheExternalSecretsLabelsWithoutATemplate(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("labelled-value")})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Labels = map[string]string{"app.kubernetes.io/part-of": "shop", "helm.sh/chart": "web-1.0.0"}
		es.Annotations = map[string]string{"reloader.stakater.com/match": "true",
			"kubectl.kubernetes.io/last-applied-configuration": `{"kind":"ExternalSecret"}`,
			"argocd.argoproj.io/tracking-id":                   "shop:baosync.io/ExternalSecret:" + ns + "/app"}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	s := getSecret(t, ns, "app")
	g.Expect(s.Labels).To(HaveKeyWithValue("app.kubernetes.io/part-of", "shop"))
	g.Expect(s.Labels).To(HaveKeyWithValue("helm.sh/chart", "web-1.0.0"))
	g.Expect(s.Annotations).To(HaveKeyWithValue("reloader.stakater.com/match", "true"))
	g.Expect(s.Annotations).NotTo(HaveKey("kubectl.kubernetes.io/last-applied-configuration"))
	g.Expect(s.Annotations).NotTo(HaveKey("argocd.argoproj.io/tracking-id"), "Argo CD would take the Secret for a manifest Git lacks, and prune it")

	// A label removed from the ExternalSecret leaves the Secret, as in ESO; one
	// someone else put on the Secret stays.
	update(t, s, func(s *corev1.Secret) { s.Labels["owner-of-the-app"] = "web-team" })
	es := &v1alpha1.ExternalSecret{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, es)).To(Succeed())
	update(t, es, func(es *v1alpha1.ExternalSecret) { delete(es.Labels, "helm.sh/chart") })
	g.Eventually(func() map[string]string { return getSecret(t, ns, "app").Labels }, eventually, poll).
		ShouldNot(HaveKey("helm.sh/chart"))
	labels := getSecret(t, ns, "app").Labels
	g.Expect(labels).To(HaveKeyWithValue("owner-of-the-app", "web-team"))
	g.Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/part-of", "shop"))
}
