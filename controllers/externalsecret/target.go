package externalsecret

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// getTarget returns the existing target Secret, or nil when there is none. The
// cache holds only Secrets baosync manages, without their data (cached.go);
// for Merge, whose Secret belongs to someone else, a miss is confirmed with
// the API server. For Owner and Orphan apply's create finds out
// (AlreadyExists), which saves a request per new object. A cached stub whose
// metadata was too large to keep is read live.
func (r *Reconciler) getTarget(ctx context.Context, es *v1alpha1.ExternalSecret) (*corev1.Secret, error) {
	if es.Spec.Target.CreationPolicy == v1alpha1.CreationPolicyNone {
		return nil, nil
	}
	key := client.ObjectKey{Namespace: es.Namespace, Name: es.TargetName()}
	s := &corev1.Secret{}
	err := r.Get(ctx, key, s)
	if apierrors.IsNotFound(err) && merges(es.Spec.Target.CreationPolicy) {
		return r.liveTarget(ctx, es)
	}
	if err == nil && trimmed(s) {
		return r.liveTarget(ctx, es)
	}
	return found(key, s, err)
}

// whole returns target with its data: target itself when it was read live,
// or a live read of it when it came from the cache.
func (r *Reconciler) whole(ctx context.Context, es *v1alpha1.ExternalSecret, target *corev1.Secret) (*corev1.Secret, error) {
	if target == nil || !fromCache(target) {
		return target, nil
	}
	return r.liveTarget(ctx, es)
}

// liveTarget reads the target Secret from the API server, bypassing the cache.
func (r *Reconciler) liveTarget(ctx context.Context, es *v1alpha1.ExternalSecret) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: es.Namespace, Name: es.TargetName()}
	s := &corev1.Secret{}
	err := r.APIReader.Get(ctx, key, s)
	if err == nil {
		dropCacheMarks(s)
	}
	return found(key, s, err)
}

// found turns a Get's result into (Secret, nil), (nil, nil) for not found, or
// a transient error.
func found(key client.ObjectKey, s *corev1.Secret, err error) (*corev1.Secret, error) {
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, outcome.FromKube("get target Secret "+key.Name, err)
	}
	return s, nil
}
