package externalsecret

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
)

// indexGeneratorRef indexes ExternalSecrets by "Kind/name" of the generators
// their dataFrom entries reference, so that a generator's creation or spec
// change wakes exactly the ExternalSecrets that use it: one waiting for a
// generator applied after it syncs at once instead of at its next retry.
const indexGeneratorRef = "spec.dataFrom.sourceRef.generatorRef"

// watchGenerators adds the generator kinds to b. The watches are on metadata
// only: the reconciler reads a generator's spec live when values are due, so
// the cache keeps names and generations, not specs.
func (r *Reconciler) watchGenerators(ctx context.Context, mgr ctrl.Manager, b *builder.Builder) (*builder.Builder, error) {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.ExternalSecret{}, indexGeneratorRef, func(o client.Object) []string {
		return generatorKeys(o.(*v1alpha1.ExternalSecret))
	}); err != nil {
		return nil, err
	}
	changed := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	for kind, obj := range generator.WatchedKinds(r.Scope.ClusterWide()) {
		b = b.WatchesMetadata(obj, r.generatorHandler(kind), changed)
	}
	return b, nil
}

// generatorHandler wakes the ExternalSecrets of a generator. A created
// generator only wakes them: those that waited for it are failing and retry
// anyway, and the creations the cache replays at start-up must not make every
// ExternalSecret read its store again. A changed or deleted one also marks
// them stale, so that they sync at once (with values made under the new spec)
// rather than at their next refresh; decideRefresh leaves CreatedOnce alone.
func (r *Reconciler) generatorHandler(kind string) handler.EventHandler {
	toES := r.generatorToExternalSecrets(kind)
	enqueue := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request], stale bool) {
		for _, req := range toES(ctx, o) {
			if stale {
				r.memo.markStale(req.NamespacedName)
			}
			q.Add(req)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q, false)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.ObjectNew, q, true)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q, true)
		},
	}
}

// generatorToExternalSecrets maps a generator of kind to the ExternalSecrets
// that reference it: in its own namespace, or anywhere for a ClusterGenerator.
func (r *Reconciler) generatorToExternalSecrets(kind string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		reqs, err := generator.Users(ctx, r.Client, &v1alpha1.ExternalSecretList{}, indexGeneratorRef, kind, o)
		if err != nil {
			logger(ctx).Error(err, "Failed to find the ExternalSecrets of a generator")
		}
		return reqs
	}
}

// generatorKeys are the index keys of the generators es references.
func generatorKeys(es *v1alpha1.ExternalSecret) []string {
	var keys []string
	for _, df := range es.Spec.DataFrom {
		if df.SourceRef != nil && df.SourceRef.GeneratorRef != nil {
			keys = append(keys, generator.RefKey(*df.SourceRef.GeneratorRef))
		}
	}
	return keys
}
