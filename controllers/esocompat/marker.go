package esocompat

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// marked reports whether the ESO object carries this operator's mark.
func (r *Reconciler) marked(o *unstructured.Unstructured) bool {
	class, ok := o.GetAnnotations()[v1alpha1.AnnotationServed]
	return ok && class == r.Class
}

// mark sets this operator's mark on the ESO object, or removes it.
func (r *Reconciler) mark(ctx context.Context, o *unstructured.Unstructured, served bool) error {
	if r.marked(o) == served {
		return nil
	}
	var class *string
	if served {
		class = &r.Class
	}
	// At the resourceVersion read: an operator whose cache is behind never
	// overwrites another's fresh mark.
	err := r.annotate(ctx, o, v1alpha1.AnnotationServed, class)
	switch {
	case err == nil || apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err): // read again soon, report nothing
		return outcome.Refusedf(v1alpha1.ReasonKubernetesAPIError, "the ESO object changed meanwhile: %v", err)
	}
	return outcome.FromKube("mark the ESO object", err)
}

// annotate sets one annotation of o to *value, or removes it when value is
// nil, with a merge patch at the resourceVersion read: nothing else of the
// object is written, and nothing written meanwhile is overwritten.
func (r *Reconciler) annotate(ctx context.Context, o client.Object, key string, value *string) error {
	before := o.DeepCopyObject().(client.Object)
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	if value != nil {
		a[key] = *value
	} else {
		delete(a, key)
	}
	o.SetAnnotations(a)
	return r.Patch(ctx, o, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}
