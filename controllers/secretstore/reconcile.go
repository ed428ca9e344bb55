// Package secretstore reconciles SecretStores and ClusterSecretStores: it
// checks that each store's configuration is usable and that it can log in,
// sets Ready, and checks again every refresh interval.
package secretstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/conditions"
	"github.com/baosync/baosync/controllers/internal/kubeaccess"
	"github.com/baosync/baosync/controllers/internal/outcome"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/providers"
)

// defaultRefresh is how often a store is checked when it sets no refreshInterval.
const defaultRefresh = 5 * time.Minute

// Deps are what both store reconcilers need.
type Deps struct {
	client.Client
	// APIReader reads auth material, which the manager does not cache.
	APIReader client.Reader
	Provider  providers.Provider
	Recorder  recorder.EventRecorder
	Metrics   *metrics.Metrics
	Clock     clock.PassiveClock
	// ControllerClass: stores naming another class are left alone.
	ControllerClass string
}

// storeReconciler is the logic both store kinds share.
type storeReconciler Deps

// reconcileStore validates one store and patches its status once.
func (r *storeReconciler) reconcileStore(ctx context.Context, key client.ObjectKey, store v1alpha1.GenericStore) (ctrl.Result, error) {
	if err := r.Get(ctx, key, store); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.Provider.Release(store.GetKind(), key.Namespace, key.Name)
			r.Metrics.StoreReady.DeleteLabelValues(string(store.GetKind()), key.Namespace, key.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if store.GetSpec().Controller != r.ControllerClass {
		return ctrl.Result{}, nil // another operator's store
	}
	before := store.DeepCopyObject().(v1alpha1.GenericStore)
	res, err := r.validate(ctx, store)
	if perr := r.patchStatus(ctx, before, store); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	return res, err
}

// validate checks the store against the server and records Ready. A store that
// cannot log in backs off; a configuration error waits for a change.
func (r *storeReconciler) validate(ctx context.Context, store v1alpha1.GenericStore) (ctrl.Result, error) {
	interval := defaultRefresh
	if s := store.GetSpec().RefreshInterval; s > 0 {
		interval = time.Duration(s) * time.Second
	}
	err := r.check(ctx, store)
	if err == nil {
		r.setReady(store, metav1.ConditionTrue, v1alpha1.ReasonStoreValid, "The store is valid and can log in")
		return ctrl.Result{RequeueAfter: outcome.Jitter(interval)}, nil
	}
	oe := outcome.As(outcome.FromProvider(err), v1alpha1.ReasonProviderUnavailable)
	r.setReady(store, metav1.ConditionFalse, oe.Reason, oe.Err.Error())
	outcome.Log(ctrl.LoggerFrom(ctx), oe, "Store validation failed")
	if oe.Class == outcome.Terminal {
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	return ctrl.Result{}, err
}

// check builds (or reuses) the store's client and validates it.
func (r *storeReconciler) check(ctx context.Context, store v1alpha1.GenericStore) error {
	kube := &kubeaccess.Access{Reader: r.APIReader, Writer: r.Client}
	c, err := r.Provider.NewClient(ctx, store, kube, store.GetNamespace())
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(ctx) }()
	return c.Validate(ctx)
}

// setReady sets Ready and the store gauge, with an event when Ready changes.
func (r *storeReconciler) setReady(store v1alpha1.GenericStore, status metav1.ConditionStatus, reason, msg string) {
	conditions.SetReady(r.Recorder, store, &store.GetStatus().Conditions, store.GetGeneration(), status, reason, "Validate", msg)
	ready := 0.0
	if status == metav1.ConditionTrue {
		ready = 1
	}
	r.Metrics.StoreReady.WithLabelValues(string(store.GetKind()), store.GetNamespace(), store.GetName()).Set(ready)
}

// patchStatus writes the status once, only when it changed.
func (r *storeReconciler) patchStatus(ctx context.Context, before, store v1alpha1.GenericStore) error {
	if equality.Semantic.DeepEqual(before.GetStatus(), store.GetStatus()) {
		return nil
	}
	if err := r.Status().Patch(ctx, store, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch store status: %w", client.IgnoreNotFound(err))
	}
	return nil
}
