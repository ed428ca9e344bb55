package externalsecret

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// apply writes the desired Secret according to creationPolicy and reports
// whether the Secret's data (or type) changed, which is what workloads see. It fails with TargetConflict (the Secret belongs to
// something else or cannot change) or TargetMissing (Merge without a Secret).
// One Create or Update: the Secret is never written half.
func (r *Reconciler) apply(ctx context.Context, es *v1alpha1.ExternalSecret, existing, desired *corev1.Secret) (bool, error) {
	policy := es.Spec.Target.CreationPolicy
	switch {
	case policy == v1alpha1.CreationPolicyNone:
		return false, nil
	case policy == v1alpha1.CreationPolicyMerge && existing == nil:
		r.targets.Watch(es, "") // its creation syncs at once
		return false, outcome.Waitingf(v1alpha1.ReasonTargetMissing, 0,
			"creationPolicy Merge needs an existing Secret %q; create it, or use creationPolicy Owner", desired.Name)
	}
	if merges(policy) && existing != nil {
		// Merge keeps the Secret's other keys: it needs the live data.
		var err error
		if existing, err = r.whole(ctx, es, existing); err != nil {
			return false, err
		} else if existing == nil {
			return r.apply(ctx, es, nil, desired)
		}
	}
	base, err := r.baseFor(ctx, es, existing)
	if err != nil {
		r.targets.Watch(es, existing.UID) // its deletion syncs at once
		return false, err
	}
	next, err := r.merge(es, base, desired)
	if err != nil {
		return false, err
	}
	if existing == nil {
		return r.create(ctx, es, next, desired)
	}
	return r.update(ctx, es, existing, base, next)
}

// merges reports whether a policy lays its keys over an existing Secret's,
// keeping the others: Merge, and CreateOrMerge once the Secret exists.
func merges(p v1alpha1.CreationPolicy) bool {
	return p == v1alpha1.CreationPolicyMerge || p == v1alpha1.CreationPolicyCreateOrMerge
}

// baseFor returns the Secret to lay the desired one over: the existing one,
// or, when another owner's Secret may be taken over, the existing one claimed.
func (r *Reconciler) baseFor(ctx context.Context, es *v1alpha1.ExternalSecret, existing *corev1.Secret) (*corev1.Secret, error) {
	if merges(es.Spec.Target.CreationPolicy) || existing == nil || owns(es, existing) {
		return existing, nil
	}
	claimed, err := claimTarget(es, existing)
	if err != nil || metav1.GetControllerOf(existing) != nil {
		return claimed, err
	}
	return claimed, r.wroteOrphan(ctx, es, existing.Name)
}

// create writes a Secret that did not exist; when one appeared meanwhile, the
// decision is made again on the live object.
func (r *Reconciler) create(ctx context.Context, es *v1alpha1.ExternalSecret, next, desired *corev1.Secret) (bool, error) {
	err := r.Create(ctx, next)
	if apierrors.IsAlreadyExists(err) {
		// A Secret baosync does not manage yet: decide on the live object.
		existing, err := r.liveTarget(ctx, es)
		if err != nil {
			return false, err
		} else if existing == nil {
			return false, outcome.Refusedf(v1alpha1.ReasonKubernetesAPIError, "Secret %q was deleted right after a create conflict", desired.Name)
		}
		return r.apply(ctx, es, existing, desired)
	}
	if err != nil {
		return false, outcome.FromKube("create Secret "+strconv.Quote(next.Name), err)
	}
	logger(ctx).Info("Created Secret", "secret", next.Name)
	return true, nil
}

// update writes next over existing when they differ, and reports whether the
// data changed; base differs from existing when the Secret was taken over.
func (r *Reconciler) update(ctx context.Context, es *v1alpha1.ExternalSecret, existing, base, next *corev1.Secret) (bool, error) {
	if sameSecret(existing, next) {
		return false, nil
	}
	if err := r.Update(ctx, next); err != nil {
		return false, outcome.FromKube("update Secret "+strconv.Quote(next.Name), err)
	}
	logger(ctx).Info("Updated Secret", "secret", next.Name)
	if base != existing {
		logger(ctx).Info("Took over Secret from External Secrets Operator", "secret", next.Name)
		r.Recorder.Eventf(es, nil, corev1.EventTypeNormal, v1alpha1.ReasonTakenOver, "Apply",
			"took over Secret %q from External Secrets Operator in one update (annotation %s)", next.Name, v1alpha1.AnnotationTakeOver)
	}
	return observedHash(existing) != next.Annotations[v1alpha1.AnnotationDataHash], nil
}

// merge builds the object to write: the desired Secret for Owner and Orphan,
// the existing Secret with the desired keys laid over it for Merge; with
// baosync's label and annotations, and an owner reference for Owner.
func (r *Reconciler) merge(es *v1alpha1.ExternalSecret, existing, desired *corev1.Secret) (*corev1.Secret, error) {
	next := desired.DeepCopy()
	if existing != nil {
		next = existing.DeepCopy()
		dropCacheMarks(next)
		if next.Labels == nil {
			next.Labels = map[string]string{}
		}
		if next.Annotations == nil {
			next.Annotations = map[string]string{}
		}
		pruneMetadata(existing, next, desired)
		maps.Copy(next.Labels, desired.Labels)
		maps.Copy(next.Annotations, desired.Annotations)
		if merges(es.Spec.Target.CreationPolicy) {
			if next.Data == nil {
				next.Data = map[string][]byte{}
			}
			maps.Copy(next.Data, desired.Data)
		} else {
			next.Data = desired.Data
		}
		if err := checkMutable(existing, next, desired); err != nil {
			return nil, err
		}
	}
	next.Labels[v1alpha1.LabelManaged] = "true"
	if other := next.Annotations[v1alpha1.AnnotationExternalSecret]; other == "" || !merges(es.Spec.Target.CreationPolicy) {
		next.Annotations[v1alpha1.AnnotationExternalSecret] = es.Name
	}
	next.Annotations[v1alpha1.AnnotationManagedKeys] = strings.Join(slices.Sorted(maps.Keys(desired.Data)), ",")
	recordMetadata(next, desired)
	next.Annotations[v1alpha1.AnnotationDataHash] = contentHash(next.Type, next.Data)
	if es.Spec.Target.CreationPolicy == v1alpha1.CreationPolicyOwner || es.Spec.Target.CreationPolicy == "" {
		dropStaleOwner(es, next)
		if err := controllerutil.SetControllerReference(es, next, r.Scheme()); err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonTargetConflict, "set owner of Secret %q: %v", next.Name, err)
		}
	}
	return next, nil
}

// checkMutable refuses changes Kubernetes would refuse: a new type, or new data
// in an immutable Secret.
func checkMutable(existing, next, desired *corev1.Secret) error {
	if desired.Type != existing.Type && desired.Type != corev1.SecretTypeOpaque {
		return outcome.Terminalf(v1alpha1.ReasonTargetConflict,
			"Secret %q has type %s but the template asks for %s; the type of a Secret cannot change, so delete the Secret", existing.Name, existing.Type, desired.Type)
	}
	next.Type = existing.Type
	if existing.Immutable != nil && *existing.Immutable && observedHash(existing) != contentHash(next.Type, next.Data) {
		return outcome.Terminalf(v1alpha1.ReasonTargetConflict,
			"Secret %q is immutable and its data would change; delete it to let baosync write the new values", existing.Name)
	}
	return nil
}

// owns reports whether the Secret is this ExternalSecret's to overwrite: it is
// controlled by it (an owner reference of an earlier object of the same name
// counts, since that object is gone), or baosync wrote it for it.
func owns(es *v1alpha1.ExternalSecret, s *corev1.Secret) bool {
	if ref := metav1.GetControllerOf(s); ref != nil {
		return isOwnRef(es, *ref)
	}
	return s.Labels[v1alpha1.LabelManaged] == "true" && s.Annotations[v1alpha1.AnnotationExternalSecret] == es.Name
}

func isOwnRef(es *v1alpha1.ExternalSecret, ref metav1.OwnerReference) bool {
	return ref.Kind == "ExternalSecret" && strings.HasPrefix(ref.APIVersion, v1alpha1.GroupVersion.Group+"/") && ref.Name == es.Name
}

// dropStaleOwner removes an owner reference left by an earlier ExternalSecret of
// the same name (deleted and created again), so that the new one can own it.
func dropStaleOwner(es *v1alpha1.ExternalSecret, s *corev1.Secret) {
	s.OwnerReferences = slices.DeleteFunc(s.OwnerReferences, func(ref metav1.OwnerReference) bool {
		return isOwnRef(es, ref) && ref.UID != es.UID
	})
}
