package secretstore

import (
	"context"
	"sync"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// ClusterSecretStoreReconciler validates ClusterSecretStores.
type ClusterSecretStoreReconciler struct {
	storeReconciler
}

// NewClusterSecretStoreReconciler returns a ClusterSecretStoreReconciler.
func NewClusterSecretStoreReconciler(d Deps) *ClusterSecretStoreReconciler {
	if d.checked == nil {
		d.checked = &sync.Map{}
	}
	return &ClusterSecretStoreReconciler{storeReconciler(d)}
}

// +kubebuilder:rbac:groups=baosync.io,resources=clustersecretstores,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=clustersecretstores/status,verbs=patch

// Reconcile validates one ClusterSecretStore.
func (r *ClusterSecretStoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) outcome.Result {
	return r.reconcileStore(ctx, req.NamespacedName, &v1alpha1.ClusterSecretStore{})
}

// SetupWithManager registers the reconciler; status writes do not retrigger it.
func (r *ClusterSecretStoreReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named("clustersecretstore").
		For(&v1alpha1.ClusterSecretStore{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(outcome.Retrying("clustersecretstore", "Store validation failed", r))
}
