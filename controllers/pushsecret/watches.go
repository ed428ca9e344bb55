package pushsecret

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/fairqueue"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/outcome"
)

// indexGeneratorRef indexes PushSecrets by "Kind/name" of the generator their
// selector names.
const indexGeneratorRef = "spec.selector.generatorRef"

// SetupWithManager registers the reconciler on spec, label and annotation
// changes (not its own status writes), and on the creation, change or
// deletion of the generator a PushSecret pushes (metadata-only watches), so
// that one applied before its generator pushes when the generator appears.
// The source Secret is read on each refresh, since it is not in the
// managed-Secrets cache.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.PushSecret{}, indexGeneratorRef, func(o client.Object) []string {
		if ref := o.(*v1alpha1.PushSecret).Spec.Selector.GeneratorRef; ref != nil {
			return []string{generator.RefKey(*ref)}
		}
		return nil
	}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).Named("pushsecret").
		For(&v1alpha1.PushSecret{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	for kind, obj := range generator.WatchedKinds(r.Scope.ClusterWide()) {
		b = b.WatchesMetadata(obj, handler.EnqueueRequestsFromMapFunc(r.generatorToPushSecrets(kind)),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	return b.WithOptions(controller.Options{NewQueue: fairqueue.New}).Complete(outcome.Retrying("pushsecret", "Failed to push Secret", r))
}

// generatorToPushSecrets maps a generator of kind to the PushSecrets that push
// it: in its own namespace, or anywhere for a ClusterGenerator.
func (r *Reconciler) generatorToPushSecrets(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		reqs, err := generator.Users(ctx, r.Client, &v1alpha1.PushSecretList{}, indexGeneratorRef, kind, o)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Failed to find the PushSecrets of a generator")
		}
		return reqs
	}
}
