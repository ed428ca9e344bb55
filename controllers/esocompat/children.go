package esocompat

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/clusterexternalsecret"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// The ExternalSecrets of a ClusterExternalSecret exist twice in the
// compatible mode: ESO's controller makes ESO's (it rewrites them whole, so
// they carry no mark of this operator), and the mirror makes baosync's of the
// same names, which do the work. This file is what this operator does with
// each when the ClusterExternalSecret changes hands or goes.

// servesParent decides for an ExternalSecret of ESO's ClusterExternalSecret
// that is being deleted, so that this operator finishes its deletion (ESO's
// finalizer) exactly when it serves the parent. With the parent gone, the
// child's own spec (its parent's) decides.
func (r *Reconciler) servesParent(ctx context.Context, child *unstructured.Unstructured) (decision, error) {
	if !r.Scope.ClusterWide() {
		return notServed, nil // ClusterExternalSecrets are not served
	}
	ref := metav1.GetControllerOf(child)
	parent := kinds[3].newESO()
	err := r.Cache.Get(ctx, client.ObjectKey{Name: ref.Name}, parent)
	switch {
	case err == nil && parent.GetUID() == ref.UID:
		d, err := r.byClusterStores(ctx, storeRefs(parent.Object, "spec", "externalSecretSpec"))
		return r.settle(parent, d), err
	case err != nil && !apierrors.IsNotFound(err):
		return notServed, outcome.FromKube("read the ESO ClusterExternalSecret", err)
	}
	d, err := r.byClusterStores(ctx, storeRefs(child.Object, "spec"))
	return r.settle(child, d), err
}

// releaseChildren lets go of the baosync ExternalSecrets that the mirror of a
// ClusterExternalSecret made, once the mirror is being deleted with
// propagation Orphan (handed back): each keeps what it made (keep-on-delete)
// and goes with propagation Orphan, so its Secret stays for ESO's and no two
// operators write it. Only those of that mirror, or that no one controls any
// more, are touched.
func (r *Reconciler) releaseChildren(ctx context.Context, name string) error {
	mirror := &v1alpha1.ClusterExternalSecret{}
	err := r.Get(ctx, client.ObjectKey{Name: name}, mirror)
	switch {
	case err == nil && mirror.DeletionTimestamp == nil:
		return nil // its deletion is not seen yet; the deletion's event comes back here
	case client.IgnoreNotFound(err) != nil:
		return outcome.FromKube("read the mirror", err)
	}
	list := &v1alpha1.ExternalSecretList{}
	if err := r.List(ctx, list, client.MatchingLabels{clusterexternalsecret.LabelOwner: name}); err != nil {
		return outcome.FromKube("list the mirror's ExternalSecrets", err)
	}
	var deleting types.UID // the mirror's, while its deletion is pending
	if err == nil {
		deleting = mirror.UID
	}
	for i := range list.Items {
		es := &list.Items[i]
		if es.DeletionTimestamp != nil || (metav1.GetControllerOf(es) != nil && controllerUID(es) != deleting) {
			continue
		}
		if err := releaseError(es, r.keepAndOrphan(ctx, es)); err != nil {
			return err
		}
	}
	return nil
}

// releaseError: gone is done; changed meanwhile is read again soon (the hand
// back is finished only when every child is released).
func releaseError(es *v1alpha1.ExternalSecret, err error) error {
	switch {
	case err == nil || apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return outcome.Refusedf(v1alpha1.ReasonKubernetesAPIError, "the ExternalSecret %s/%s changed meanwhile: %v", es.Namespace, es.Name, err)
	}
	return outcome.FromKube(fmt.Sprintf("release the ExternalSecret %s/%s", es.Namespace, es.Name), err)
}
