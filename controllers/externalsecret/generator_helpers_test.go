package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// withGenerator adds a dataFrom entry taking its values from a generator.
func withGenerator(kind, name string, rewrite ...v1alpha1.ExternalSecretRewrite) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = append(es.Spec.DataFrom, v1alpha1.ExternalSecretDataFromRemoteRef{
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{GeneratorRef: &v1alpha1.GeneratorRef{Kind: kind, Name: name}},
			Rewrite:   rewrite})
	}
}

// createPassword creates a Password generator of length n.
func createPassword(t *testing.T, ns, name string, n int) *v1alpha1.Password {
	t.Helper()
	p := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1alpha1.PasswordSpec{Length: n}}
	NewWithT(t).Expect(k8s.Create(context.Background(), p)).To(Succeed())
	return p
}

// createUUID creates a UUID generator.
func createUUID(t *testing.T, ns, name string) {
	t.Helper()
	NewWithT(t).Expect(k8s.Create(context.Background(),
		&v1alpha1.UUID{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})).To(Succeed())
}

// generatedData waits for the target Secret and registers its values with the
// leak scan: generated values must not appear in logs, events or status either.
func generatedData(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	data := secretData(t, ns, name)
	for _, v := range data {
		leak.Secret(v)
	}
	return data
}
