package externalsecret

import (
	"context"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/storeref"
)

// resolveStore returns the store the ExternalSecret uses. It fails with
// StoreNotFound, StoreNotAllowed or StoreNotReady, or with
// storeref.ErrOtherController for a store another operator serves.
func (r *Reconciler) resolveStore(ctx context.Context, es *v1alpha1.ExternalSecret) (v1alpha1.GenericStore, error) {
	return storeref.Resolve(ctx, r.Client, r.APIReader, r.Scope, es.Spec.SecretStoreRef, es.Namespace)
}
