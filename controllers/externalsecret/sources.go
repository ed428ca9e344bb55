package externalsecret

import (
	"context"
	"errors"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/storeref"
	"github.com/baosync/baosync/providers"
)

// storeClients hands out one client per store an ExternalSecret reads: the
// store of spec.secretStoreRef and those of sourceRef.storeRef entries. Each
// store is resolved under the same tenant rules and logged in to once per
// sync, on first use; close releases every client.
type storeClients struct {
	r  *Reconciler
	es *v1alpha1.ExternalSecret
	// def is the store the reconciler resolved (spec.secretStoreRef's, or the
	// first entry's of an ExternalSecret without one); nil for none.
	def     v1alpha1.GenericStore
	clients map[string]providers.SecretsClient
	stores  map[string]v1alpha1.GenericStore // the stores resolved, by storeKey
	errs    map[string]error
}

func newStoreClients(r *Reconciler, es *v1alpha1.ExternalSecret, def v1alpha1.GenericStore) *storeClients {
	return &storeClients{r: r, es: es, def: def, clients: map[string]providers.SecretsClient{},
		stores: map[string]v1alpha1.GenericStore{}, errs: map[string]error{}}
}

// get returns the client of the store ref names, spec.secretStoreRef's when
// ref is nil. A failure is remembered, so that every entry of a broken store
// reports it without another login.
func (s *storeClients) get(ctx context.Context, ref *v1alpha1.SecretStoreRef) (providers.SecretsClient, error) {
	if ref == nil {
		if s.es.Spec.SecretStoreRef.IsZero() { // the API server's rule forbids it; an old object may not know
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec,
				"the entry names no store and spec.secretStoreRef is not set; set one of them")
		}
		ref = &s.es.Spec.SecretStoreRef
	}
	key := storeKey(*ref)
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
func (s *storeClients) open(ctx context.Context, ref v1alpha1.SecretStoreRef) (providers.SecretsClient, error) {
	store := s.def
	if store == nil || storeKey(ref) != storeKey(v1alpha1.SecretStoreRef{Kind: store.GetKind(), Name: store.GetName()}) {
		var err error
		store, err = storeref.Resolve(ctx, s.r.Client, s.r.APIReader, s.r.Scope, ref, s.es.Namespace)
		if errors.Is(err, storeref.ErrOtherController) {
			err = outcome.Terminalf(v1alpha1.ReasonStoreNotAllowed,
				"served by another controller class or outside this operator's namespace; use a store this operator serves")
		}
		if err != nil {
			return nil, outcome.Within("sourceRef.storeRef", err) // the entry's label names the store
		}
	}
	s.stores[storeKey(ref)] = store
	c, err := s.r.Provider.NewClient(ctx, store, s.r.kube(), s.es.Namespace)
	if err != nil {
		return nil, outcome.FromProvider(fmt.Errorf("%s %q: %w", store.GetKind(), store.GetName(), err))
	}
	return c, nil
}

// storeOf is the store ref names (spec.secretStoreRef's when nil), if this
// sync resolved it.
func (s *storeClients) storeOf(ref *v1alpha1.SecretStoreRef) v1alpha1.GenericStore {
	if ref == nil {
		ref = &s.es.Spec.SecretStoreRef
	}
	return s.stores[storeKey(*ref)]
}

// close releases every client opened.
func (s *storeClients) close(ctx context.Context) {
	for _, c := range s.clients {
		_ = c.Close(ctx)
	}
}

// dataStoreRef is the store a data entry names, nil for spec.secretStoreRef.
func dataStoreRef(d v1alpha1.ExternalSecretData) *v1alpha1.SecretStoreRef {
	if d.SourceRef == nil {
		return nil
	}
	return &d.SourceRef.StoreRef
}

// dataFromStoreRef is the store a dataFrom entry names, nil for
// spec.secretStoreRef.
func dataFromStoreRef(df v1alpha1.ExternalSecretDataFromRemoteRef) *v1alpha1.SecretStoreRef {
	if df.SourceRef == nil {
		return nil
	}
	return df.SourceRef.StoreRef
}

// fromStore names an entry's own store for messages, "" for
// spec.secretStoreRef's, which the Ready message names already.
func fromStore(ref *v1alpha1.SecretStoreRef) string {
	if ref == nil {
		return ""
	}
	return ", from " + storeref.Describe(*ref)
}

// generated reports whether a dataFrom entry takes its values from a generator.
func generated(df v1alpha1.ExternalSecretDataFromRemoteRef) bool {
	return df.SourceRef != nil && df.SourceRef.GeneratorRef != nil
}

// storeKeys are the "Kind/name" keys of every store an ExternalSecret reads,
// for the index that wakes it when one of them changes.
func storeKeys(es *v1alpha1.ExternalSecret) []string {
	var keys []string
	seen := map[string]bool{}
	add := func(ref *v1alpha1.SecretStoreRef) {
		if ref == nil || ref.IsZero() {
			return
		}
		if k := storeKey(*ref); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	add(&es.Spec.SecretStoreRef)
	for _, d := range es.Spec.Data {
		add(dataStoreRef(d))
	}
	for _, df := range es.Spec.DataFrom {
		add(dataFromStoreRef(df))
	}
	return keys
}
