package esocompat

import (
	"context"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/internal/outcome"
)

// esoFinalizers are the finalizers ESO v1.3 puts on its objects (on an
// ExternalSecret before it even looks at the store's class). With ESO gone,
// nobody would remove them and every deletion would hang.
var esoFinalizers = []string{
	"externalsecrets.external-secrets.io/externalsecret-cleanup",
	"externalsecrets.external-secrets.io/clusterexternalsecret-cleanup",
	"pushsecret.externalsecrets.io/finalizer",
	"secretstore.externalsecrets.io/finalizer",
}

// mirrorGoneWait is how soon a deletion waiting for its mirror looks again
// (the mirror's deletion event usually comes first).
const mirrorGoneWait = 5 * time.Second

// finalize lets a served ESO object that is being deleted go: its mirror
// first, with propagation Background, so that what ESO's cleanup would do
// happens (the Secret it owns goes, leases are revoked, a PushSecret's
// deletionPolicy Delete removes what it pushed), then ESO's finalizers.
func (r *Reconciler) finalize(ctx context.Context, eso *unstructured.Unstructured) outcome.Result {
	if !slices.ContainsFunc(eso.GetFinalizers(), isESOFinalizer) {
		return outcome.Next(0) // the garbage collector deletes the mirror with it
	}
	var gone bool
	var err error
	if slices.Contains(eso.GetFinalizers(), metav1.FinalizerOrphanDependents) {
		// Deleted with --cascade=orphan: the mirror stays, and serves on as a
		// baosync object once the garbage collector has taken the owner
		// reference off it.
		gone = !r.hasMirror(ctx, eso)
	} else {
		gone, err = r.dropMirror(ctx, client.ObjectKeyFromObject(eso), eso.GetUID(), metav1.DeletePropagationBackground)
	}
	if err != nil || !gone {
		return outcome.Failed(err, mirrorGoneWait)
	}
	before := eso.DeepCopy()
	eso.SetFinalizers(slices.DeleteFunc(eso.GetFinalizers(), isESOFinalizer))
	err = r.Patch(ctx, eso, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	if client.IgnoreNotFound(err) != nil {
		return outcome.Failed(outcome.FromKube("remove ESO's finalizer", err), 0)
	}
	ctrl.LoggerFrom(ctx).Info("Removed ESO's finalizer after the mirror went")
	return outcome.Next(0)
}

func isESOFinalizer(f string) bool { return slices.Contains(esoFinalizers, f) }
