package desired

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// maxSecretBytes is Kubernetes' limit on a Secret's data.
const maxSecretBytes = 1 << 20

// desiredSecret builds the desired Secret from the templated values. It fails with
// InvalidSpec for keys Kubernetes refuses and with SecretTooLarge when the data
// exceeds 1 MiB.
func desiredSecret(es *v1alpha1.ExternalSecret, t *templated) (*corev1.Secret, error) {
	values := t.data
	size := 0
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return nil, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, 0,
				"key %q is not a valid Secret key (%s); rename it in Vault or map it with data[].secretKey", k, strings.Join(errs, "; "))
		}
		size += len(k) + len(values[k])
	}
	if size > maxSecretBytes {
		return nil, outcome.Waitingf(v1alpha1.ReasonSecretTooLarge, 0,
			"the rendered data is %d bytes, over Kubernetes' limit of %d bytes for a Secret", size, maxSecretBytes)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        es.TargetName(),
			Namespace:   es.Namespace,
			Labels:      map[string]string{},
			Annotations: map[string]string{},
		},
		Type: corev1.SecretTypeOpaque,
		Data: values,
	}
	if tpl := es.Spec.Target.Template; tpl != nil {
		if tpl.Type != "" {
			s.Type = tpl.Type
		}
		maps.Copy(s.Labels, tpl.Metadata.Labels)
		maps.Copy(s.Annotations, tpl.Metadata.Annotations)
	} else {
		copyOwnMetadata(es, s)
	}
	for k, v := range t.labels {
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
			return nil, outcome.Waitingf(v1alpha1.ReasonTemplateError, 0, "templated label %q is not valid: %s", k, strings.Join(errs, "; "))
		}
	}
	maps.Copy(s.Labels, t.labels)
	maps.Copy(s.Annotations, t.annotations)
	if es.Spec.Target.Immutable {
		immutable := true
		s.Immutable = &immutable
	}
	return s, nil
}

// copyOwnMetadata gives a Secret without target.template the ExternalSecret's
// own labels and annotations, as ESO does (kustomize commonLabels, Helm's
// labels and Reloader's annotations rely on it); with a template, only
// template.metadata is used, as in ESO, whatever its mergePolicy. Two kinds of
// keys are not copied, unlike ESO: kubectl's last-applied-configuration (the
// ExternalSecret's manifest would become the Secret's, and a later kubectl
// apply of the Secret would merge against it), baosync.io/ keys, which are
// baosync's own bookkeeping and controls, and GitOps tracking keys (see
// gitOpsKey).
func copyOwnMetadata(es *v1alpha1.ExternalSecret, s *corev1.Secret) {
	for k, v := range es.Labels {
		if !strings.HasPrefix(k, v1alpha1.KeyPrefix) && !gitOpsKey(k) {
			s.Labels[k] = v
		}
	}
	for k, v := range es.Annotations {
		if k != corev1.LastAppliedConfigAnnotation && !strings.HasPrefix(k, v1alpha1.KeyPrefix) && !gitOpsKey(k) {
			s.Annotations[k] = v
		}
	}
}

// gitOpsKey reports a label or annotation by which Argo CD
// (argocd.argoproj.io/tracking-id, sync waves and options) or Flux
// (kustomize.toolkit.fluxcd.io/name, helm.toolkit.fluxcd.io/…) tracks the
// objects of an application. Copied onto the Secret, it would make the
// Secret look like a manifest of the application that Git does not hold:
// shown OutOfSync, and pruned.
func gitOpsKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "/")
	return ok && (prefix == "argocd.argoproj.io" || strings.HasSuffix(prefix, ".toolkit.fluxcd.io"))
}
