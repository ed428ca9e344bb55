package externalsecret

import (
	"context"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/ledger"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/providers"
)

// A login token that owns leases may end before the leases are next looked
// at (its max TTL reached, or the server refused it); the provider says so
// (providers.TokenEndNotifier), and the ExternalSecrets of that generator are
// woken, stale, so that their leases are issued anew under a fresh login while
// the old credentials still work.

// watchTokenEnds adds to b the source of the provider's notifications, when
// the provider gives them. Notifications are kept as a set of generators until
// the controller takes them, so that none is dropped and a burst for one
// generator wakes its users once; the goroutine that hands them over stops
// with ctx.
func (r *Reconciler) watchTokenEnds(ctx context.Context, b *builder.Builder) *builder.Builder {
	n, ok := r.Provider.(providers.TokenEndNotifier)
	if !ok {
		return b
	}
	pending := &endedGenerators{objs: map[string]client.Object{}, wake: make(chan struct{}, 1)}
	n.OnTokenEnd(pending.add)
	ch := make(chan event.TypedGenericEvent[client.Object])
	go pending.handOver(ctx, ch)
	return b.WatchesRawSource(source.Channel(ch, handler.EnqueueRequestsFromMapFunc(r.tokenEndToExternalSecrets)))
}

// endedGenerators are the generators whose token ended, not yet handed to the
// controller; at most one entry per generator.
type endedGenerators struct {
	mu   sync.Mutex
	objs map[string]client.Object
	wake chan struct{}
}

// add records the generator behind a client name; it never blocks.
func (e *endedGenerators) add(store string) {
	o := ledger.GeneratorOf(store)
	if o == nil {
		return
	}
	e.mu.Lock()
	e.objs[store] = o
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// handOver sends the recorded generators to ch until ctx ends.
func (e *endedGenerators) handOver(ctx context.Context, ch chan<- event.TypedGenericEvent[client.Object]) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		}
		e.mu.Lock()
		objs := e.objs
		e.objs = map[string]client.Object{}
		e.mu.Unlock()
		for _, o := range objs {
			select {
			case ch <- event.TypedGenericEvent[client.Object]{Object: o}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// tokenEndToExternalSecrets wakes, stale, the users of the generator whose
// token ended.
func (r *Reconciler) tokenEndToExternalSecrets(ctx context.Context, o client.Object) []reconcile.Request {
	kind := string(v1alpha1.GeneratorKindVaultDynamicSecret)
	if o.GetNamespace() == "" {
		kind = v1alpha1.GeneratorKindCluster
	}
	reqs, err := generator.Users(ctx, r.Client, &v1alpha1.ExternalSecretList{}, indexGeneratorRef, kind, o)
	if err != nil {
		logger(ctx).Error(err, "Failed to find the ExternalSecrets of a generator whose token ends")
	}
	for _, req := range reqs {
		r.memo.markStale(req.NamespacedName)
	}
	return reqs
}
