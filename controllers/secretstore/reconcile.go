// Package secretstore reconciles SecretStores and ClusterSecretStores: it
// checks that each store's configuration is usable and that it can log in,
// sets Ready, and checks again every refresh interval.
package secretstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/conditions"
	"github.com/baosync/baosync/controllers/internal/statuspatch"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/kubeaccess"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
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
	// Scope is what this operator serves; other stores are left alone.
	Scope scope.Served
	// Feed is the change feed of instant updates; nil without
	// --change-feed-listen.
	Feed Feed

	// checked remembers when each store (by UID and generation) last
	// logged in successfully, so that the quicker looks of instant updates
	// do not log in each time; made by the constructors.
	checked *sync.Map
}

// storeReconciler is the logic both store kinds share.
type storeReconciler Deps

// reconcileStore validates one store and patches its status once. A failure
// is returned for outcome.Retrying to map, with the store's refresh interval
// as the delay of a waiting one.
func (r *storeReconciler) reconcileStore(ctx context.Context, key client.ObjectKey, store v1alpha1.GenericStore) outcome.Result {
	if err := r.Get(ctx, key, store); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.Provider.Release(store.GetKind(), key.Namespace, key.Name)
			if r.Feed != nil {
				r.Feed.Unregister(fmt.Sprintf("%s/%s/%s", store.GetKind(), key.Namespace, key.Name))
			}
			r.Metrics.StoreReady.DeleteLabelValues(string(store.GetKind()), key.Namespace, key.Name)
		}
		return outcome.Failed(client.IgnoreNotFound(err), 0)
	}
	if !r.Scope.Serves(store) {
		return outcome.Next(0) // another operator's store
	}
	before := store.DeepCopyObject().(v1alpha1.GenericStore)
	// The stream token is registered before the store logs in: after a
	// restart that login is often the server's first audit entry, and the
	// stream it opens must be recognised to catch up what changed meanwhile.
	again := r.instantUpdates(ctx, store)
	res := r.validate(ctx, store)
	if again > 0 && (res.After == 0 || again < res.After) {
		res.After = again
	}
	perr := statuspatch.IfChanged(ctx, r.Client, before, store, func(s v1alpha1.GenericStore) any { return s.GetStatus() })
	res.Err = errors.Join(res.Err, perr)
	return res
}

// validate checks the store against the server and records Ready. On success
// the store is checked again after its refresh interval; on failure the error
// is returned with the interval as the delay of a waiting one.
func (r *storeReconciler) validate(ctx context.Context, store v1alpha1.GenericStore) outcome.Result {
	interval := defaultRefresh
	if s := store.GetSpec().RefreshInterval; s > 0 {
		interval = time.Duration(s) * time.Second
	}
	// What a store can do does not depend on whether it can log in now: every
	// OpenBao/Vault store serves reads and pushes.
	store.GetStatus().Capabilities = v1alpha1.SecretStoreReadWrite
	if tr, ok := r.Provider.(providers.TenantReporter); ok && tr.PerNamespace(store) {
		return r.validateShared(store, tr, interval)
	}
	store.GetStatus().Tenancy = nil
	err := r.checkDue(ctx, store, interval)
	if err == nil {
		r.setReady(store, metav1.ConditionTrue, v1alpha1.ReasonStoreValid, "The store is valid and can log in")
		return outcome.Next(outcome.Jitter(interval))
	}
	oe := outcome.As(outcome.FromProvider(err), v1alpha1.ReasonProviderUnavailable)
	r.setReady(store, metav1.ConditionFalse, oe.Reason, oe.Err.Error())
	return outcome.Failed(oe, interval)
}

// checkDue checks the store unless it passed a check less than interval ago
// (the same object and generation) and is Ready.
func (r *storeReconciler) checkDue(ctx context.Context, store v1alpha1.GenericStore, interval time.Duration) error {
	key := fmt.Sprintf("%s/%d", store.GetUID(), store.GetGeneration())
	if r.checked != nil {
		if at, ok := r.checked.Load(key); ok && time.Since(at.(time.Time)) < interval &&
			meta.IsStatusConditionTrue(store.GetStatus().Conditions, v1alpha1.ConditionReady) {
			return nil
		}
	}
	err := r.check(ctx, store)
	if r.checked != nil {
		if err == nil {
			r.checked.Store(key, time.Now())
		} else {
			r.checked.Delete(key)
		}
	}
	return err
}

// check builds (or reuses) the store's client and validates it.
func (r *storeReconciler) check(ctx context.Context, store v1alpha1.GenericStore) error {
	kube := &kubeaccess.Access{Reader: r.APIReader, Writer: r.Client, Namespaces: r.Client}
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
