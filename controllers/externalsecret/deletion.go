package externalsecret

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// remoteGone applies target.deletionPolicy after every referenced remote secret
// answered "not found" (never after any other error). Retain keeps the Secret
// and reports RemoteNotFound; Delete deletes a Secret this ExternalSecret owns;
// Merge removes only the keys baosync wrote.
func (r *Reconciler) remoteGone(ctx context.Context, es *v1alpha1.ExternalSecret, target *corev1.Secret, cause error) outcome.Result {
	policy := es.Spec.Target.DeletionPolicy
	if policy == "" || policy == v1alpha1.DeletionPolicyRetain || (target == nil && policy != v1alpha1.DeletionPolicyDelete) {
		return r.fail(ctx, es, cause)
	}
	if policy == v1alpha1.DeletionPolicyMerge { // removing keys needs the live data
		var err error
		if target, err = r.whole(ctx, es, target); err != nil {
			return r.fail(ctx, es, err)
		} else if target == nil {
			return r.fail(ctx, es, cause)
		}
	}
	if target == nil {
		r.setReady(es, metav1.ConditionFalse, v1alpha1.ReasonSecretDeleted,
			fmt.Sprintf("The remote secret no longer exists and Secret %q was deleted (deletionPolicy Delete)", es.TargetName()))
		return outcome.Next(waitDelay(es))
	}
	var err error
	var done string
	switch policy {
	case v1alpha1.DeletionPolicyDelete:
		if !owns(es, target) {
			return r.fail(ctx, es, cause)
		}
		err = r.Delete(ctx, target, client.Preconditions{UID: &target.UID, ResourceVersion: &target.ResourceVersion})
		done = fmt.Sprintf("deleted Secret %q (deletionPolicy Delete)", target.Name)
	case v1alpha1.DeletionPolicyMerge:
		next, managed := withoutManagedKeys(target)
		err = r.Update(ctx, next)
		done = fmt.Sprintf("removed keys [%s] from Secret %q (deletionPolicy Merge)", strings.Join(managed, ", "), target.Name)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return r.fail(ctx, es, outcome.FromKube("apply deletionPolicy "+string(policy), err))
	}
	msg := fmt.Sprintf("The remote secret no longer exists: %s", done)
	logger(ctx).Info("Applied deletionPolicy", "policy", policy, "secret", target.Name)
	r.setReady(es, metav1.ConditionFalse, v1alpha1.ReasonSecretDeleted, msg)
	es.Status.SyncedResourceVersion = resourceVersionOf(es)
	es.Status.RefreshTime = metav1.NewTime(r.Clock.Now())
	return outcome.Next(waitDelay(es))
}

// withoutManagedKeys returns a copy of target without the keys baosync wrote
// into it, and those keys. A Secret whose data or annotations someone removed
// is handled like any other: the tenant controls it.
func withoutManagedKeys(target *corev1.Secret) (*corev1.Secret, []string) {
	next := target.DeepCopy()
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	var managed []string
	for _, k := range strings.Split(next.Annotations[v1alpha1.AnnotationManagedKeys], ",") {
		if k != "" {
			managed = append(managed, k)
			delete(next.Data, k)
		}
	}
	next.Annotations[v1alpha1.AnnotationManagedKeys] = ""
	next.Annotations[v1alpha1.AnnotationDataHash] = contentHash(next.Type, next.Data)
	return next, managed
}
