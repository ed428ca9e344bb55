package desired

import (
	"context"
	"errors"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/storeref"
	"github.com/baosync/baosync/providers"
)

// Stores hands out one client per store an ExternalSecret reads: the store
// of spec.secretStoreRef and those of sourceRef.storeRef entries. Each store
// is resolved under the same tenant rules and logged in to once per build, on
// first use; the clients are closed when the build ends, and StoreOf tells
// which stores it resolved.
type Stores struct {
	b  *Builder
	es *v1alpha1.ExternalSecret
	// def is the store the reconciler resolved (spec.secretStoreRef's, or the
	// first entry's of an ExternalSecret without one); nil for none.
	def     v1alpha1.GenericStore
	clients map[string]providers.SecretsClient
	stores  map[string]v1alpha1.GenericStore // the stores resolved, by storeKey
	errs    map[string]error
}

func newStores(b *Builder, es *v1alpha1.ExternalSecret, def v1alpha1.GenericStore) *Stores {
	return &Stores{b: b, es: es, def: def, clients: map[string]providers.SecretsClient{},
		stores: map[string]v1alpha1.GenericStore{}, errs: map[string]error{}}
}

// get returns the client of the store ref names, spec.secretStoreRef's when
// ref is nil. A failure is remembered, so that every entry of a broken store
// reports it without another login.
func (s *Stores) get(ctx context.Context, ref *v1alpha1.SecretStoreRef) (providers.SecretsClient, error) {
	if ref == nil {
		if s.es.Spec.SecretStoreRef.IsZero() { // the API server's rule forbids it; an old object may not know
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec,
				"the entry names no store and spec.secretStoreRef is not set; set one of them")
		}
		ref = &s.es.Spec.SecretStoreRef
	}
	key := storeref.Key(*ref)
	if c, ok := s.clients[key]; ok {
		return c, nil
	}
	if err, ok := s.errs[key]; ok {
		return nil, err
	}
	c, err := s.open(ctx, *ref)
	if err != nil {
		s.errs[key] = err
		return nil, err
	}
	s.clients[key] = c
	return c, nil
}

// open resolves the store (unless the reconciler did) and logs in. Errors
// name the store, since one ExternalSecret may read several.
func (s *Stores) open(ctx context.Context, ref v1alpha1.SecretStoreRef) (providers.SecretsClient, error) {
	store := s.def
	if store == nil || storeref.Key(ref) != storeref.Key(v1alpha1.SecretStoreRef{Kind: store.GetKind(), Name: store.GetName()}) {
		var err error
		store, err = storeref.Resolve(ctx, s.b.Cache, s.b.Live, s.b.Scope, ref, s.es.Namespace)
		if errors.Is(err, storeref.ErrOtherController) {
			err = outcome.Terminalf(v1alpha1.ReasonStoreNotAllowed,
				"served by another controller class or outside this operator's namespace; use a store this operator serves")
		}
		if err != nil {
			return nil, outcome.Within("sourceRef.storeRef", err) // the entry's label names the store
		}
	}
	s.stores[storeref.Key(ref)] = store
	c, err := s.b.Provider.NewClient(ctx, store, s.b.Kube, s.es.Namespace)
	if err != nil {
		return nil, outcome.FromProvider(fmt.Errorf("%s %q: %w", store.GetKind(), store.GetName(), err))
	}
	return c, nil
}

// StoreOf is the store ref names (spec.secretStoreRef's when nil), if the
// build resolved it; nil otherwise.
func (s *Stores) StoreOf(ref *v1alpha1.SecretStoreRef) v1alpha1.GenericStore {
	if ref == nil {
		ref = &s.es.Spec.SecretStoreRef
	}
	return s.stores[storeref.Key(*ref)]
}

// close releases every client opened.
func (s *Stores) close(ctx context.Context) {
	for _, c := range s.clients {
		_ = c.Close(ctx)
	}
}

// fromStore names an entry's own store for messages, "" for
// spec.secretStoreRef's, which the Ready message names already.
func fromStore(ref *v1alpha1.SecretStoreRef) string {
	if ref == nil {
		return ""
	}
	return ", from " + storeref.Describe(*ref)
}

// StoreKeys are the "Kind/name" keys of every store an ExternalSecret reads,
// for the index that wakes it when one of them changes and for `baosync render`.
func StoreKeys(es *v1alpha1.ExternalSecret) []string {
	var keys []string
	seen := map[string]bool{}
	add := func(ref *v1alpha1.SecretStoreRef) {
		if ref == nil || ref.IsZero() {
			return
		}
		if k := storeref.Key(*ref); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	add(&es.Spec.SecretStoreRef)
	for _, d := range es.Spec.Data {
		add(d.StoreRef())
	}
	for _, df := range es.Spec.DataFrom {
		add(df.StoreRef())
	}
	return keys
}
