package desired

import (
	"context"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/storeref"
)

// Store returns the store the ExternalSecret uses. It fails with
// StoreNotFound, StoreNotAllowed or StoreNotReady, or with
// storeref.ErrOtherController for a store another operator serves.
//
// An ExternalSecret without spec.secretStoreRef (every entry names its own
// source) has no store of its own. As in ESO, the store of its first entry
// that names one decides which operator serves it, and is the store returned.
// One of generators alone (store nil) is served by the operator without a
// controller class, within its namespace scope, so that two operators never
// both generate it.
func (b *Builder) Store(ctx context.Context, es *v1alpha1.ExternalSecret) (v1alpha1.GenericStore, error) {
	if !es.Spec.SecretStoreRef.IsZero() {
		return storeref.Resolve(ctx, b.Cache, b.Live, b.Scope, es.Spec.SecretStoreRef, es.Namespace)
	}
	if ref := firstEntryStore(es); ref != nil {
		store, err := storeref.Resolve(ctx, b.Cache, b.Live, b.Scope, *ref, es.Namespace)
		if err != nil {
			return nil, outcome.Within("sourceRef.storeRef "+storeref.Describe(*ref), err)
		}
		return store, nil
	}
	if b.Scope.Class != "" || !b.Scope.ServesNamespace(es.Namespace) {
		return nil, storeref.ErrOtherController
	}
	return nil, nil
}

// firstEntryStore is the store the first entry names (dataFrom, then data),
// nil when every entry is a generator.
func firstEntryStore(es *v1alpha1.ExternalSecret) *v1alpha1.SecretStoreRef {
	for _, df := range es.Spec.DataFrom {
		if ref := df.StoreRef(); ref != nil {
			return ref
		}
	}
	for _, d := range es.Spec.Data {
		if ref := d.StoreRef(); ref != nil {
			return ref
		}
	}
	return nil
}
