package externalsecret

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestTemplateFrom_ValuesDecodingStrategyDecodesEachRenderedValue: ESO v2's
// valuesDecodingStrategy against the real Vault: values a templateFrom entry
// renders base64-encoded reach the Secret decoded; a value that is not
// base64 fails with DecodingFailed naming the key, not the value.
func TestTemplateFrom_ValuesDecodingStrategyDecodesEachRenderedValue(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	p := kvPath(t, "tpl")
	putKV(t, p, map[string]any{"k": leak.Secret("decoded-value-" + ns)})
	literal := func(text string, strategy v1alpha1.DecodingStrategy) esOpt {
		return func(es *v1alpha1.ExternalSecret) {
			es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{TemplateFrom: []v1alpha1.TemplateFrom{{Literal: &text, ValuesDecodingStrategy: strategy}}}
		}
	}
	createES(t, newES(ns, "ok", "vault", withData("k", p[len("secret/"):], "k"), literal(`out: "{{ .k | b64enc }}"`, v1alpha1.DecodingStrategyBase64)))
	createES(t, newES(ns, "bad", "vault", withData("k", p[len("secret/"):], "k"), literal(`out: "{{ .k }}!"`, v1alpha1.DecodingStrategyBase64)))
	waitReady(t, ns, "ok", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "ok")).To(Equal(map[string]string{"out": "decoded-value-" + ns}))
	es := waitReady(t, ns, "bad", metav1.ConditionFalse, v1alpha1.ReasonDecodingFailed)
	g.Expect(readyMessage(es)).To(ContainSubstring(`key "out"`))
}
