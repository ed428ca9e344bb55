package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestTemplates(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	literal := "greeting: hello-{{ .user }}"
	cases := []struct {
		name     string
		template v1alpha1.ExternalSecretTemplate
		want     map[string]string
		annot    map[string]string
	}{{
		name:     "renders data templates over the fetched values and keeps only them",
		template: v1alpha1.ExternalSecretTemplate{Data: map[string]string{"dsn": "postgres://{{ .user }}:{{ .pass }}@db:5432/app"}},
		want:     map[string]string{"dsn": "postgres://svc:tmpl-pw-1@db:5432/app"},
	}, {
		name: "merges templated keys with the fetched ones under mergePolicy Merge",
		template: v1alpha1.ExternalSecretTemplate{MergePolicy: v1alpha1.MergePolicyMerge,
			Data: map[string]string{"user-upper": "{{ .user | upper }}"}},
		want: map[string]string{"user": "svc", "pass": "tmpl-pw-1", "user-upper": "SVC"},
	}, {
		name: "offers sprig functions",
		template: v1alpha1.ExternalSecretTemplate{Data: map[string]string{
			"b64": "{{ .user | b64enc }}", "json": `{{ dict "u" .user | toJson }}`, "indented": "x:\n{{ .user | indent 2 }}"}},
		want: map[string]string{"b64": "c3Zj", "json": `{"u":"svc"}`, "indented": "x:\n  svc"},
	}, {
		name: "renders templates from a ConfigMap, as values and as keys-and-values",
		template: v1alpha1.ExternalSecretTemplate{TemplateFrom: []v1alpha1.TemplateFrom{{ConfigMap: &v1alpha1.TemplateRef{Name: "tpl",
			Items: []v1alpha1.TemplateRefItem{{Key: "app.conf"}, {Key: "pairs", TemplateAs: v1alpha1.TemplateScopeKeysAndValues}}}}}},
		want: map[string]string{"app.conf": "user = svc", "a": "svc", "b": "fixed"},
	}, {
		name: "writes a literal template into annotations",
		template: v1alpha1.ExternalSecretTemplate{MergePolicy: v1alpha1.MergePolicyMerge,
			TemplateFrom: []v1alpha1.TemplateFrom{{Literal: &literal, Target: v1alpha1.TemplateTargetAnnotations}}},
		want:  map[string]string{"user": "svc", "pass": "tmpl-pw-1"},
		annot: map[string]string{"greeting": "hello-svc"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			g.Expect(k8s.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tpl", Namespace: ns},
				Data: map[string]string{"app.conf": "user = {{ .user }}", "pairs": "a: {{ .user }}\nb: fixed"}})).To(Succeed())
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"user": "svc", "pass": leak.Secret("tmpl-pw-1")})
			tpl := tc.template
			createES(t, newES(ns, "app", "vault", func(es *v1alpha1.ExternalSecret) {
				es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: path[len("secret/"):]}}}
				es.Spec.Target.Template = &tpl
			}))
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
			g.Expect(secretData(t, ns, "app")).To(Equal(tc.want))
			for k, v := range tc.annot {
				g.Expect(getSecret(t, ns, "app").Annotations).To(HaveKeyWithValue(k, v))
			}
		})
	}
}

func TestTemplates_ErrorsNameTheTemplateAndHideValues(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name, text, hint string
	}{
		{name: "a template that does not parse", text: "{{ .user ", hint: `template.data["out"]`},
		{name: "a template that names a missing key", text: "{{ .nosuchkey }}", hint: `map has no entry for key "nosuchkey"`},
		{name: "a template that fails on the value", text: `{{ .pass | int | div 0 }}`, hint: `template.data["out"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"user": "svc", "pass": leak.Secret("hidden-template-value")})
			createES(t, newES(ns, "app", "vault", withData("pass", path[len("secret/"):], "pass"), func(es *v1alpha1.ExternalSecret) {
				es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Data: map[string]string{"out": tc.text}}
			}))
			got := waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonTemplateError)
			g.Expect(readyMessage(got)).To(ContainSubstring(tc.hint))
			g.Expect(readyMessage(got)).NotTo(ContainSubstring("hidden-template-value"))
			g.Expect(getSecret(t, ns, "app")).To(BeNil())
		})
	}
}
