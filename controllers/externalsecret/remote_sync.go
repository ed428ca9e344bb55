package externalsecret

import (
	"cmp"
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/storeref"
	"github.com/baosync/baosync/internal/tenancy"
	"github.com/baosync/baosync/providers/vault"
)

// watchRemoteChanges adds to b the objects instant updates make due, when
// the operator has them; the goroutine that hands them over stops with ctx.
func (r *Reconciler) watchRemoteChanges(ctx context.Context, b *builder.Builder) *builder.Builder {
	if r.Changes == nil {
		return b
	}
	ch := make(chan event.TypedGenericEvent[*v1alpha1.ExternalSecret])
	go r.Changes.handOver(ctx, func(k types.NamespacedName) bool {
		es := &v1alpha1.ExternalSecret{}
		es.Namespace, es.Name = k.Namespace, k.Name
		select {
		case ch <- event.TypedGenericEvent[*v1alpha1.ExternalSecret]{Object: es}:
			return true
		case <-ctx.Done():
			return false
		}
	})
	return b.WatchesRawSource(source.Channel(ch, &handler.TypedEnqueueRequestForObject[*v1alpha1.ExternalSecret]{}))
}

// remoteSynced tells, on the object, which change made it sync, and how long
// the change took to reach its Secret.
func (r *Reconciler) remoteSynced(es *v1alpha1.ExternalSecret, wrote bool, cause syncCause, change remoteChange) {
	if cause != syncRemote || change.what == "" {
		return
	}
	result := "the Secret was already current"
	if !wrote && !r.Changes.quiet.Allow() {
		return
	}
	if wrote {
		result = "the Secret was updated"
		if r.Changes.Metrics != nil {
			from := change.at
			if !change.logged.IsZero() && change.logged.Before(from) {
				from = change.logged // the server's own time of the change, when it is the earlier
			}
			r.Changes.Metrics.Observe(r.Clock.Since(from).Seconds())
		}
	}
	r.Recorder.Eventf(es, nil, corev1.EventTypeNormal, v1alpha1.ReasonRemoteChanged, "Sync", "Refreshed after %s; %s", change.what, result)
}

// indexReads records, for instant updates, the paths and find roots es
// reads from the stores a sync resolved (storeOf; entries whose store failed
// are left out until a sync resolves it); lastSync is when es last read them.
func (r *Reconciler) indexReads(es *v1alpha1.ExternalSecret, storeOf func(*v1alpha1.SecretStoreRef) v1alpha1.GenericStore, lastSync time.Time) {
	if r.Changes == nil {
		return
	}
	var reads []reading
	namespaces := map[string]string{}
	add := func(ref *v1alpha1.SecretStoreRef, key string, root bool) {
		st := storeOf(ref)
		if st == nil || st.GetSpec().Provider.Vault == nil || st.GetSpec().InstantUpdates == nil {
			return // only the stores that opt in are indexed: the index costs memory per path
		}
		pl, ok := placementOf(st, es.Namespace)
		if !ok {
			return
		}
		p, ok := pl.place(key, root)
		if !ok {
			return
		}
		id := storeID(st)
		reads = append(reads, reading{store: id, path: p, root: root})
		namespaces[id] = pl.namespace
	}
	for _, df := range es.Spec.DataFrom {
		switch {
		case df.Generated():
		case df.Extract != nil:
			add(df.StoreRef(), df.Extract.Key, false)
		case df.Find != nil:
			path := ""
			if df.Find.Path != nil {
				path = *df.Find.Path
			}
			add(df.StoreRef(), path, true)
		}
	}
	for _, d := range es.Spec.Data {
		add(d.StoreRef(), d.RemoteRef.Key, false)
	}
	r.Changes.index(client.ObjectKeyFromObject(es), reads, namespaces, lastSync)
}

// notDue is the end of a reconcile with nothing to sync. An object the index
// of instant updates does not know yet (the operator restarted, and the
// object is not due) is indexed from its stores in the cache, without a
// login, so that a change, or the stream's catch-up, reaches it.
func (r *Reconciler) notDue(ctx context.Context, es *v1alpha1.ExternalSecret, wait time.Duration) outcome.Result {
	if r.Changes != nil && !r.Changes.knows(client.ObjectKeyFromObject(es)) {
		cached := map[string]v1alpha1.GenericStore{}
		for _, ref := range storeRefsOf(es) {
			if st, err := storeref.Resolve(ctx, r.Client, nil, r.Scope, ref, es.Namespace); err == nil {
				cached[storeref.Key(ref)] = st
			}
		}
		r.indexReads(es, func(ref *v1alpha1.SecretStoreRef) v1alpha1.GenericStore {
			return cached[storeref.Key(*cmp.Or(ref, &es.Spec.SecretStoreRef))]
		}, es.Status.RefreshTime.Time)
	}
	return outcome.Next(wait)
}

// storeRefsOf is every store an ExternalSecret names.
func storeRefsOf(es *v1alpha1.ExternalSecret) []v1alpha1.SecretStoreRef {
	var refs []v1alpha1.SecretStoreRef
	if !es.Spec.SecretStoreRef.IsZero() {
		refs = append(refs, es.Spec.SecretStoreRef)
	}
	for _, df := range es.Spec.DataFrom {
		if ref := df.StoreRef(); ref != nil {
			refs = append(refs, *ref)
		}
	}
	for _, d := range es.Spec.Data {
		if ref := d.StoreRef(); ref != nil {
			refs = append(refs, *ref)
		}
	}
	return refs
}

// storeID names a store as the provider and the change feed do.
func storeID(st v1alpha1.GenericStore) string {
	return string(st.GetKind()) + "/" + st.GetNamespace() + "/" + st.GetName()
}

// placement is where the objects of one namespace read from a store: its
// spec as they see it (a shared store's mount filled in), the part of the
// mount they may reach, and its OpenBao/Vault namespace.
type placement struct {
	spec      *v1alpha1.VaultProvider
	reach     string // "<mount>/<prefix>" of a shared store; empty for the whole server
	namespace string
}

// placementOf is st as namespace's objects see it; false for a shared store
// whose templates name labels (its objects are not indexed: they refresh at
// their interval).
func placementOf(st v1alpha1.GenericStore, namespace string) (placement, bool) {
	v := st.GetSpec().Provider.Vault
	pl := placement{spec: v, namespace: strings.Trim(deref(v.Namespace), "/")}
	t := st.GetSpec().Tenancy
	if t == nil {
		return pl, true
	}
	if tenancy.UsesLabels(t.PathPrefix, deref(t.Mount), deref(t.Namespace)) {
		return pl, false
	}
	ns := tenancy.Namespace{Name: namespace}
	spec := v.DeepCopy()
	if t.Mount != nil {
		m, err := tenancy.Expand(*t.Mount, ns)
		if err != nil {
			return pl, false
		}
		spec.Path = &m
	}
	if t.Namespace != nil {
		n, err := tenancy.Expand(*t.Namespace, ns)
		if err != nil {
			return pl, false
		}
		pl.namespace = strings.Trim(n, "/")
	}
	prefix, err := tenancy.Expand(t.PathPrefix, ns)
	if err != nil || spec.Path == nil {
		return pl, false
	}
	pl.spec = spec
	pl.reach = strings.Trim(strings.Trim(*spec.Path, "/")+"/"+strings.Trim(prefix, "/"), "/")
	return pl, true
}

// place is where key (or, with root, a find path) lies, and false for one
// outside the namespace's part of a shared store: the store refuses it, and
// a change there is none of the object's business.
func (pl placement) place(key string, root bool) (string, bool) {
	var p string
	var err error
	switch {
	case root && key == "" && pl.reach != "":
		return pl.reach, true // a find without a path searches the namespace's part
	case root:
		p, err = vault.FindPath(pl.spec, key)
	default:
		p, err = vault.KeyPath(pl.spec, key)
	}
	if err != nil {
		return "", false
	}
	if pl.reach != "" && p != pl.reach && !strings.HasPrefix(p, pl.reach+"/") {
		return "", false
	}
	return p, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
