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

// SecretStoreReconciler validates namespaced SecretStores.
type SecretStoreReconciler struct {
	storeReconciler
}

// NewSecretStoreReconciler returns a SecretStoreReconciler.
func NewSecretStoreReconciler(d Deps) *SecretStoreReconciler {
	if d.checked == nil {
		d.checked = &sync.Map{}
	}
	return &SecretStoreReconciler{storeReconciler(d)}
}

// +kubebuilder:rbac:groups=baosync.io,resources=secretstores,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=secretstores/status,verbs=patch

// Reconcile validates one SecretStore.
func (r *SecretStoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) outcome.Result {
	return r.reconcileStore(ctx, req.NamespacedName, &v1alpha1.SecretStore{})
}

// SetupWithManager registers the reconciler; status writes do not retrigger it.
func (r *SecretStoreReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named("secretstore").
		For(&v1alpha1.SecretStore{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(outcome.Retrying("secretstore", "Store validation failed", r))
}
