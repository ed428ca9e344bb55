package externalsecret

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// ESO's marks on the Secrets it writes.
const (
	esoGroup        = "external-secrets.io"
	esoMetaPrefix   = "reconcile.external-secrets.io/"
	esoLabelManaged = esoMetaPrefix + "managed"
)

// conflictRetry is how soon a target that belongs to something else is looked
// at again. The Secret is not in the cache (only managed Secrets are); its
// deletion, the documented fix, is seen at once by the target watch
// (targetwatch.go), and this retry covers what that bounded watch does not.
const conflictRetry = 10 * time.Second

// claimTarget decides about an existing Secret this ExternalSecret does not
// own (creationPolicy Owner or Orphan). With v1alpha1.AnnotationTakeOver and ESO's
// marks on the Secret, it returns a copy without them, for apply to write
// over in one update; otherwise a TargetConflict that is retried shortly, so
// that a deleted Secret is created at once.
func claimTarget(es *v1alpha1.ExternalSecret, existing *corev1.Secret) (*corev1.Secret, error) {
	if es.Annotations[v1alpha1.AnnotationTakeOver] != "true" {
		return nil, outcome.Waitingf(v1alpha1.ReasonTargetConflict, conflictRetry,
			"Secret %q exists and is not managed by this ExternalSecret; delete it (baosync then creates its own at once), choose another target.name, "+
				"use creationPolicy Merge, or, if External Secrets Operator created it, annotate this ExternalSecret %s: \"true\" to take it over in place",
			existing.Name, v1alpha1.AnnotationTakeOver)
	}
	if why := esoMarked(es, existing); why != "" {
		return nil, outcome.Waitingf(v1alpha1.ReasonTargetConflict, conflictRetry,
			"Secret %q exists and %s, so %s does not apply to it; delete it, or choose another target.name", existing.Name, why, v1alpha1.AnnotationTakeOver)
	}
	claimed := existing.DeepCopy()
	claimed.OwnerReferences = slices.DeleteFunc(claimed.OwnerReferences, isESORef)
	maps.DeleteFunc(claimed.Labels, isESOKey)
	maps.DeleteFunc(claimed.Annotations, isESOKey)
	return claimed, nil
}

// esoMarked says why s is not a Secret that External Secrets Operator wrote for
// es ("" when it is): its controller is ESO's ExternalSecret of the same name
// (creationPolicy Owner), or, with no controller, it carries ESO's managed
// label (creationPolicy Orphan).
func esoMarked(es *v1alpha1.ExternalSecret, s *corev1.Secret) string {
	ref := metav1.GetControllerOf(s)
	switch {
	case ref == nil && s.Labels[esoLabelManaged] == "true":
		return ""
	case ref == nil:
		return "carries none of External Secrets Operator's marks (a controller reference to its ExternalSecret, or the label " + esoLabelManaged + ")"
	case !isESORef(*ref):
		return "is controlled by " + ref.Kind + " " + ref.Name + ", not by External Secrets Operator"
	case ref.Name != es.Name:
		return "was written by External Secrets Operator for the ExternalSecret " + ref.Name + ", not " + es.Name
	}
	return ""
}

// isESORef reports whether ref names one of ESO's ExternalSecrets.
func isESORef(ref metav1.OwnerReference) bool {
	return ref.Kind == "ExternalSecret" && strings.HasPrefix(ref.APIVersion, esoGroup+"/")
}

// esoVersions are the versions of ESO's ExternalSecret looked up, newest first.
var esoVersions = []string{"v1", "v1beta1"}

// wroteOrphan checks that ESO's ExternalSecret of es's name, in its namespace,
// is the one that wrote the Secret named target with creationPolicy Orphan.
// ESO leaves no record of its ExternalSecret on such a Secret (only its
// managed label, which any Secret can carry), so the ExternalSecret itself
// must say so; the cutover keeps it until the take-over is done. Reading it
// needs the ESO-compatible mode's role (ESO's objects are never in the
// default role).
func (r *Reconciler) wroteOrphan(ctx context.Context, es *v1alpha1.ExternalSecret, target string) error {
	var err error
	for _, v := range esoVersions {
		eso := &unstructured.Unstructured{}
		eso.SetGroupVersionKind(schema.GroupVersionKind{Group: esoGroup, Version: v, Kind: "ExternalSecret"})
		if err = r.APIReader.Get(ctx, client.ObjectKey{Namespace: es.Namespace, Name: es.Name}, eso); err == nil {
			return orphanOf(eso, target)
		}
		if !meta.IsNoMatchError(err) {
			break
		}
	}
	if apierrors.IsForbidden(err) {
		return outcome.Waitingf(v1alpha1.ReasonTargetConflict, conflictRetry,
			"Secret %q carries External Secrets Operator's managed label and no owner; to take it over, baosync must read ESO's ExternalSecret %q, "+
				"which the default role does not allow: for the cutover, grant the operator's ServiceAccount get on externalsecrets.external-secrets.io (docs/migrating-from-eso.md), or delete the Secret",
			target, es.Name)
	}
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return outcome.Waitingf(v1alpha1.ReasonTargetConflict, conflictRetry,
			"Secret %q carries External Secrets Operator's managed label and no owner, and ESO's ExternalSecret %q is not there to say it wrote it; "+
				"keep ESO's ExternalSecret until the take-over is done (docs/migrating-from-eso.md), or delete the Secret", target, es.Name)
	}
	return outcome.FromKube("read External Secrets Operator's ExternalSecret "+strconv.Quote(es.Name), err)
}

// orphanOf refuses unless ESO's ExternalSecret eso writes target with
// creationPolicy Orphan.
func orphanOf(eso *unstructured.Unstructured, target string) error {
	name, _, _ := unstructured.NestedString(eso.Object, "spec", "target", "name")
	policy, _, _ := unstructured.NestedString(eso.Object, "spec", "target", "creationPolicy")
	if cmp.Or(name, eso.GetName()) == target && policy == "Orphan" {
		return nil
	}
	return outcome.Waitingf(v1alpha1.ReasonTargetConflict, conflictRetry,
		"Secret %q carries External Secrets Operator's managed label, but ESO's ExternalSecret %q does not write it with creationPolicy Orphan; "+
			"delete the Secret, or choose another target.name", target, eso.GetName())
}

// isESOKey reports whether a label or annotation key is ESO's bookkeeping.
func isESOKey(k, _ string) bool { return strings.HasPrefix(k, esoMetaPrefix) }
