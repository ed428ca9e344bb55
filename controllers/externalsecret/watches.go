package externalsecret

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/metadata"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/targetwatch"
	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/fairqueue"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/storeref"
)

// indexStoreRef indexes ExternalSecrets by "Kind/name" of their stores
// (spec.secretStoreRef and every sourceRef.storeRef), so that a store change
// wakes exactly the ExternalSecrets that use it.
const indexStoreRef = "spec.secretStoreRef"

// SetupWithManager registers the reconciler: ExternalSecrets (on spec, label or
// annotation changes, not on their own status writes), the Secrets baosync
// manages (drift repair), stores (readiness changes) and generators (creation
// and spec changes).
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.ExternalSecret{}, indexStoreRef, func(o client.Object) []string {
		return desired.StoreKeys(o.(*v1alpha1.ExternalSecret))
	}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("externalsecret").
		For(&v1alpha1.ExternalSecret{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(secretToExternalSecret)).
		Watches(&v1alpha1.SecretStore{}, handler.EnqueueRequestsFromMapFunc(r.storeToExternalSecrets))
	if r.Scope.ClusterWide() { // a namespace-scoped operator serves no ClusterSecretStore
		b = b.Watches(&v1alpha1.ClusterSecretStore{}, handler.EnqueueRequestsFromMapFunc(r.storeToExternalSecrets))
	}
	b, err := r.watchGenerators(ctx, mgr, b)
	if err != nil {
		return err
	}
	b = r.watchTokenEnds(ctx, b)
	b = r.watchRemoteChanges(ctx, b)
	meta, err := metadata.NewForConfig(mgr.GetConfig())
	if err != nil {
		return fmt.Errorf("metadata client for target watches: %w", err)
	}
	r.targets = targetwatch.New(ctx, meta)
	b = b.WatchesRawSource(source.Channel(r.targets.Events(), &handler.TypedEnqueueRequestForObject[*v1alpha1.ExternalSecret]{}))
	return b.WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles, NewQueue: fairqueue.New}).Complete(outcome.Retrying("externalsecret", "Failed to sync ExternalSecret", r))
}

// CacheOptions make the manager cache only the Secrets baosync manages, and of
// those only metadata and a hash of the data (slimSecret), and strip
// managedFields, so that memory follows neither the cluster's other Secrets
// nor what a tenant puts into labelled ones; cached ExternalSecrets and
// Secrets share the strings they repeat (slimExternalSecret); a
// namespace-scoped operator caches only its namespace.
func CacheOptions(namespace string) cache.Options {
	o := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:           {Label: labels.SelectorFromSet(labels.Set{v1alpha1.LabelManaged: "true"}), Transform: slimSecret},
			&v1alpha1.ExternalSecret{}: {Transform: slimExternalSecret},
		},
	}
	if namespace != "" {
		o.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	return o
}

// secretToExternalSecret maps a managed Secret to the ExternalSecret that writes it.
func secretToExternalSecret(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetAnnotations()[v1alpha1.AnnotationExternalSecret]
	if name == "" || o.GetLabels()[v1alpha1.LabelManaged] != "true" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}

// storeToExternalSecrets maps a store to the ExternalSecrets that use it.
func (r *Reconciler) storeToExternalSecrets(ctx context.Context, o client.Object) []reconcile.Request {
	store, ok := o.(v1alpha1.GenericStore)
	if !ok {
		return nil
	}
	opts := []client.ListOption{client.MatchingFields{indexStoreRef: storeref.Key(v1alpha1.SecretStoreRef{Kind: store.GetKind(), Name: store.GetName()})}}
	if store.GetKind() == v1alpha1.SecretStoreKindNamespaced {
		opts = append(opts, client.InNamespace(store.GetNamespace()))
	}
	// Only the names are read: without deep copies, a store used by 100,000
	// ExternalSecrets does not copy 100 MB of cache whenever it changes.
	opts = append(opts, client.UnsafeDisableDeepCopy)
	list := &v1alpha1.ExternalSecretList{}
	if err := r.List(ctx, list, opts...); err != nil {
		logger(ctx).Error(err, "Failed to list ExternalSecrets of a store", "store", store.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}
