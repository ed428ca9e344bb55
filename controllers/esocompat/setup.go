package esocompat

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/internal/fairqueue"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
)

// Options configure the ESO-compatible mode.
type Options struct {
	Recorder recorder.EventRecorder
	// Scope is what this operator serves; a namespace-scoped operator serves
	// no cluster-scoped ESO kind.
	Scope scope.Served
	// Class is the ESO controller class served (--eso-controller-class).
	Class   string
	Metrics *Metrics
	// Workers is the number of concurrent reconciles per kind (--concurrent).
	Workers int
}

// Setup registers one controller per ESO kind. It fails when ESO's CRDs are
// not installed, except those of ESO's generators, which are optional.
func Setup(mgr ctrl.Manager, o Options) error {
	log := mgr.GetLogger().WithName("eso-compat")
	for _, k := range kinds {
		if k.cluster && !o.Scope.ClusterWide() {
			continue
		}
		if _, err := mgr.GetRESTMapper().RESTMapping(k.gvk.GroupKind(), k.gvk.Version); err != nil {
			if (k.isGenerator() || k.optional) && meta.IsNoMatchError(err) {
				log.Info("ESO's CRD is not installed: its objects are not served", "kind", k.gvk.Kind, "group", k.gvk.Group)
				continue
			}
			return fmt.Errorf("--eso-compat needs External Secrets Operator's CRDs (%s %s): %w", k.gvk.Kind, k.gvk.GroupVersion(), err)
		}
		r := &Reconciler{Client: mgr.GetClient(), Cache: mgr.GetCache(), Recorder: o.Recorder, Scope: o.Scope,
			Class: o.Class, Metrics: o.Metrics, kind: k}
		if err := r.setup(mgr, o.Workers); err != nil {
			return fmt.Errorf("set up the ESO %s controller: %w", k.gvk.Kind, err)
		}
	}
	return nil
}

func (r *Reconciler) setup(mgr ctrl.Manager, workers int) error {
	// Status writes (ours) change neither generation, labels nor annotations.
	changed := predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{})
	b := ctrl.NewControllerManagedBy(mgr).Named("eso-"+strings.ToLower(r.kind.gvk.Kind)).
		For(r.kind.newESO(), builder.WithPredicates(changed)).
		Owns(r.kind.newMirror()).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, workers), NewQueue: fairqueue.New})
	if r.followsStores() {
		for _, store := range []kind{storeKind("SecretStore"), storeKind("ClusterSecretStore")} {
			if store.cluster && !r.Scope.ClusterWide() {
				continue
			}
			b = b.Watches(store.newESO(), handler.EnqueueRequestsFromMapFunc(r.usersOf),
				builder.WithPredicates(predicate.GenerationChangedPredicate{}))
		}
	}
	return b.Complete(outcome.Retrying("eso-"+strings.ToLower(r.kind.gvk.Kind), "Failed to serve ESO "+r.kind.gvk.Kind, r))
}

// followsStores: the kind is served or not by the stores it names, so a
// store's creation or change of class decides again.
func (r *Reconciler) followsStores() bool {
	switch r.kind.gvk.Kind {
	case "ExternalSecret", "ClusterExternalSecret", "PushSecret", "ClusterPushSecret":
		return true
	}
	return false
}

// usersOf maps an ESO store to the objects of this kind that name it.
func (r *Reconciler) usersOf(ctx context.Context, store client.Object) []reconcile.Request {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(r.kind.gvk.GroupVersion().WithKind(r.kind.gvk.Kind + "List"))
	var opts []client.ListOption
	if store.GetNamespace() != "" {
		opts = append(opts, client.InNamespace(store.GetNamespace()))
	}
	opts = append(opts, client.UnsafeDisableDeepCopy) // read only, and possibly every object of the kind
	if err := r.Cache.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List ESO objects for a store change", "kind", r.kind.gvk.Kind)
		return nil
	}
	kindName := store.GetObjectKind().GroupVersionKind().Kind
	var out []reconcile.Request
	for i := range list.Items {
		if names(&list.Items[i], kindName, store.GetName()) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}

// names reports whether the ESO object refers to the store.
func names(o *unstructured.Unstructured, kindName, name string) bool {
	matches := func(ref storeRef) bool {
		k := ref.kind
		if k == "" {
			k = "SecretStore"
		}
		return ref.name == name && k == kindName
	}
	return slices.ContainsFunc(specRefs(o), matches)
}
