package externalsecret

import (
	"context"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/storeref"
)

// resolveStore returns the store the ExternalSecret uses. It fails with
// StoreNotFound, StoreNotAllowed or StoreNotReady, or with
// storeref.ErrOtherController for a store another operator serves.
//
// An ExternalSecret without spec.secretStoreRef (every entry names its own
// source) has no store to say which operator serves it: the operator without
// a controller class does, within its namespace scope, so that two operators
// never both generate its values. Its store is nil.
func (r *Reconciler) resolveStore(ctx context.Context, es *v1alpha1.ExternalSecret) (v1alpha1.GenericStore, error) {
	if es.Spec.SecretStoreRef.IsZero() {
		if r.Scope.Class != "" || !r.Scope.ServesNamespace(es.Namespace) {
			return nil, storeref.ErrOtherController
		}
		return nil, nil
	}
	return storeref.Resolve(ctx, r.Client, r.APIReader, r.Scope, es.Spec.SecretStoreRef, es.Namespace)
}
