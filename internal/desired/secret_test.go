package desired

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestRender_CopiesTheExternalSecretsOwnMetadataOnlyWithoutATemplate(t *testing.T) {
	ownLabels := map[string]string{"app.kubernetes.io/name": "web", "baosync.io/managed": "false",
		"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
	ownAnnotations := map[string]string{
		"reloader.stakater.com/match":          "true",
		corev1.LastAppliedConfigAnnotation:     `{"kind":"ExternalSecret"}`,
		v1alpha1.AnnotationForceSync:           "1",
		"argocd.argoproj.io/tracking-id":       "shop:baosync.io/ExternalSecret:apps/web",
		"argocd.argoproj.io/sync-wave":         "-1",
		"kustomize.toolkit.fluxcd.io/checksum": "abc",
	}
	cases := []struct {
		name      string
		template  *v1alpha1.ExternalSecretTemplate
		wantLabel map[string]string
		wantAnn   map[string]string
	}{{
		name:      "copies labels and annotations without target.template, except kubectl's last-applied, baosync.io/ keys and Argo CD's and Flux's tracking keys",
		wantLabel: map[string]string{"app.kubernetes.io/name": "web"},
		wantAnn:   map[string]string{"reloader.stakater.com/match": "true"},
	}, {
		name:      "uses only template.metadata when a template is set",
		template:  &v1alpha1.ExternalSecretTemplate{Metadata: v1alpha1.ExternalSecretTemplateMetadata{Labels: map[string]string{"tier": "db"}}},
		wantLabel: map[string]string{"tier": "db"},
		wantAnn:   map[string]string{},
	}, {
		name:      "copies nothing with an empty template, whatever its mergePolicy",
		template:  &v1alpha1.ExternalSecretTemplate{MergePolicy: v1alpha1.MergePolicyMerge},
		wantLabel: map[string]string{},
		wantAnn:   map[string]string{},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := newES("ns", "app", "s")
			es.Labels, es.Annotations = ownLabels, ownAnnotations
			es.Spec.Target.Template = tc.template
			s, err := desiredSecret(es, &templated{data: map[string][]byte{"k": []byte("v")}})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(s.Labels, tc.wantLabel) || !maps.Equal(s.Annotations, tc.wantAnn) {
				t.Fatalf("labels %v, annotations %v; want %v, %v", s.Labels, s.Annotations, tc.wantLabel, tc.wantAnn)
			}
		})
	}
}
