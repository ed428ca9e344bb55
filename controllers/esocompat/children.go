package esocompat

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/clusterexternalsecret"
	"github.com/baosync/baosync/controllers/clusterpushsecret"
	"github.com/baosync/baosync/internal/outcome"
)

// The ExternalSecrets of a ClusterExternalSecret (and the PushSecrets of a
// ClusterPushSecret) exist twice in the compatible mode: ESO's controller
// makes ESO's (it rewrites them whole, so they carry no mark of this
// operator), and the mirror makes baosync's of the same names, which do the
// work. This file is what this operator does with each when the parent
// changes hands or goes.

// servesParent decides for an object of ESO's ClusterExternalSecret or
// ClusterPushSecret that is being deleted, so that this operator finishes its
// deletion (ESO's finalizer) exactly when it serves the parent. With the
// parent gone, the child's own spec (its parent's) decides.
func (r *Reconciler) servesParent(ctx context.Context, child *unstructured.Unstructured) (decision, error) {
	if !r.Scope.ClusterWide() {
		return notServed, nil // cluster kinds are not served
	}
	ref := metav1.GetControllerOf(child)
	parent := kindNamed(ref.Kind).newESO()
	err := r.Cache.Get(ctx, client.ObjectKey{Name: ref.Name}, parent)
	switch {
	case err == nil && parent.GetUID() == ref.UID:
		d, err := r.byClusterStores(ctx, specRefs(parent))
		return r.settle(parent, d), err
	case err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err): // no CRD: no parent
		return notServed, outcome.FromKube("read the ESO "+ref.Kind, err)
	}
	d, err := r.byClusterStores(ctx, specRefs(child))
	return r.settle(child, d), err
}

// releaseChildren lets go of the baosync ExternalSecrets (PushSecrets) that
// the mirror of a ClusterExternalSecret (ClusterPushSecret) made, once the
// mirror is being deleted with propagation Orphan (handed back): each keeps
// what it made (keep-on-delete) and goes with propagation Orphan, so its
// Secret (pushed secrets) stays for ESO's and no two operators write it. Only
// those of that mirror, or that no one controls any more, are touched.
func (r *Reconciler) releaseChildren(ctx context.Context, name string) error {
	mirror := r.kind.newMirror()
	err := r.Get(ctx, client.ObjectKey{Name: name}, mirror)
	switch {
	case err == nil && mirror.GetDeletionTimestamp() == nil:
		return nil // its deletion is not seen yet; the deletion's event comes back here
	case client.IgnoreNotFound(err) != nil:
		return outcome.FromKube("read the mirror", err)
	}
	children, err2 := r.childrenOf(ctx, name)
	if err2 != nil {
		return err2
	}
	var deleting types.UID // the mirror's, while its deletion is pending
	if err == nil {
		deleting = mirror.GetUID()
	}
	for _, child := range children {
		if child.GetDeletionTimestamp() != nil || (metav1.GetControllerOf(child) != nil && controllerUID(child) != deleting) {
			continue
		}
		if err := releaseError(child, r.keepAndOrphan(ctx, child)); err != nil {
			return err
		}
	}
	return nil
}

// childrenOf lists the baosync objects the mirror of this kind named name
// made, by the label its reconciler puts on them.
func (r *Reconciler) childrenOf(ctx context.Context, name string) ([]client.Object, error) {
	var list client.ObjectList = &v1alpha1.ExternalSecretList{}
	label, what := clusterexternalsecret.LabelOwner, "ExternalSecrets"
	if r.kind.gvk.Kind == "ClusterPushSecret" {
		list, label, what = &v1alpha1.PushSecretList{}, clusterpushsecret.LabelOwner, "PushSecrets"
	}
	if err := r.List(ctx, list, client.MatchingLabels{label: name}); err != nil {
		return nil, outcome.FromKube("list the mirror's "+what, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, fmt.Errorf("list the mirror's %s: %w", what, err)
	}
	out := make([]client.Object, 0, len(items))
	for _, item := range items {
		if o, ok := item.(client.Object); ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// releaseError: gone is done; changed meanwhile is read again soon (the hand
// back is finished only when every child is released).
func releaseError(o client.Object, err error) error {
	switch {
	case err == nil || apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return outcome.Refusedf(v1alpha1.ReasonKubernetesAPIError, "%s/%s changed meanwhile: %v", o.GetNamespace(), o.GetName(), err)
	}
	return outcome.FromKube(fmt.Sprintf("release %s/%s", o.GetNamespace(), o.GetName()), err)
}
