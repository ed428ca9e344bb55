package esocompat

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// AnnotationServed marks an ESO object this operator serves; its value is
// the ESO controller class served (--eso-controller-class, empty for ESO's
// default class), so that two operators of different classes never take
// each other's objects. The object's deletion then is this operator's to
// finish (ESO's finalizers included) whatever is left of its stores: in a
// namespace being deleted, the store and the mirror may go first. The mark is
// set before the mirror is made, removed when the object is handed back, and
// never copied to the mirror.
const AnnotationServed = "baosync.io/eso-served"

// marked reports whether the ESO object carries this operator's mark.
func (r *Reconciler) marked(o *unstructured.Unstructured) bool {
	class, ok := o.GetAnnotations()[AnnotationServed]
	return ok && class == r.Class
}

// mark sets this operator's mark on the ESO object, or removes it; a merge
// patch, so that nothing else of the object is written.
func (r *Reconciler) mark(ctx context.Context, o *unstructured.Unstructured, served bool) error {
	if r.marked(o) == served {
		return nil
	}
	before := o.DeepCopy()
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	if served {
		a[AnnotationServed] = r.Class
	} else {
		delete(a, AnnotationServed)
	}
	o.SetAnnotations(a)
	// At the resourceVersion read: an operator whose cache is behind never
	// overwrites another's fresh mark.
	err := r.Patch(ctx, o, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	switch {
	case err == nil || apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err): // read again soon, report nothing
		return outcome.Refusedf(v1alpha1.ReasonKubernetesAPIError, "the ESO object changed meanwhile: %v", err)
	}
	return outcome.FromKube("mark the ESO object", err)
}
