package externalsecret

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/changefeed"
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
	if wrote {
		result = "the Secret was updated"
		if r.Changes.Metrics != nil {
			r.Changes.Metrics.Observe(r.Clock.Since(change.at).Seconds())
		}
	}
	r.Recorder.Eventf(es, nil, corev1.EventTypeNormal, v1alpha1.ReasonRemoteChanged, "Sync", "Refreshed after %s; %s", change.what, result)
}

// indexReads records, for instant updates, the paths and find roots es
// reads from the stores stores resolved; entries whose store failed are
// left out until a sync resolves it.
func (r *Reconciler) indexReads(es *v1alpha1.ExternalSecret, stores *storeClients) {
	if r.Changes == nil {
		return
	}
	var reads []reading
	namespaces := map[string]string{}
	add := func(ref *v1alpha1.SecretStoreRef, key string, root bool) {
		st := stores.storeOf(ref)
		if st == nil || st.GetSpec().Provider.Vault == nil {
			return
		}
		v := st.GetSpec().Provider.Vault
		var p string
		var err error
		if root {
			p, err = vault.FindPath(v, key)
		} else {
			p, err = vault.KeyPath(v, key)
		}
		if err != nil {
			return
		}
		id := storeID(st)
		reads = append(reads, reading{store: id, path: p, root: root})
		namespaces[id] = vaultNamespace(st)
	}
	for _, df := range es.Spec.DataFrom {
		switch {
		case generated(df):
		case df.Extract != nil:
			add(dataFromStoreRef(df), df.Extract.Key, false)
		case df.Find != nil:
			path := ""
			if df.Find.Path != nil {
				path = *df.Find.Path
			}
			add(dataFromStoreRef(df), path, true)
		}
	}
	for _, d := range es.Spec.Data {
		add(dataStoreRef(d), d.RemoteRef.Key, false)
	}
	r.Changes.index(client.ObjectKeyFromObject(es), reads, namespaces)
}

// storeID names a store as the provider and the change feed do.
func storeID(st v1alpha1.GenericStore) string {
	return string(st.GetKind()) + "/" + st.GetNamespace() + "/" + st.GetName()
}

// vaultNamespace is the OpenBao/Vault namespace a store reads from; any
// (changefeed.UnknownNamespace) for a shared store that gives each
// namespace its own.
func vaultNamespace(st v1alpha1.GenericStore) string {
	if t := st.GetSpec().Tenancy; t != nil && t.Namespace != nil {
		return changefeed.UnknownNamespace
	}
	if ns := st.GetSpec().Provider.Vault.Namespace; ns != nil {
		return strings.Trim(*ns, "/")
	}
	return ""
}
