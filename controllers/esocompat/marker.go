package esocompat

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	if err := r.Patch(ctx, o, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
		return outcome.FromKube("mark the ESO object", err)
	}
	return nil
}

// markChildren marks the ExternalSecrets that ESO made for a ClusterExternalSecret
// this operator serves (with ESO gone, their deletion is this operator's to
// finish too), or unmarks them when it is handed back.
func (r *Reconciler) markChildren(ctx context.Context, ces *unstructured.Unstructured, served bool) error {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(storeKind("").gvk.GroupVersion().WithKind("ExternalSecretList"))
	if err := r.Cache.List(ctx, list); err != nil {
		return outcome.FromKube("list ESO's ExternalSecrets", err)
	}
	for i := range list.Items {
		child := &list.Items[i]
		if ownedByESO(child, "ClusterExternalSecret") && controllerUID(child) == ces.GetUID() {
			if err := r.mark(ctx, child, served); err != nil {
				return err
			}
		}
	}
	return nil
}
