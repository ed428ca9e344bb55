// Package externalsecret reconciles ExternalSecrets: it resolves the store,
// reads the remote values through a providers.SecretsClient, renders the
// target Secret, writes it only when it changed, and reports the outcome in the
// Ready condition, an event and metrics.
package externalsecret

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/ledger"
	"github.com/baosync/baosync/controllers/internal/targetwatch"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/kubeaccess"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/internal/storeref"
	"github.com/baosync/baosync/internal/syncbudget"
	"github.com/baosync/baosync/providers"
)

// Reconciler syncs ExternalSecrets into Secrets.
type Reconciler struct {
	client.Client
	// APIReader reads objects the manager does not cache (Secrets not yet
	// managed by baosync, auth material).
	APIReader client.Reader
	Provider  providers.Provider
	Recorder  recorder.EventRecorder
	Metrics   *metrics.Metrics
	Clock     clock.Clock
	// MaxConcurrentReconciles is the number of workers.
	MaxConcurrentReconciles int
	// Scope is what this operator serves (controller class, namespace).
	Scope scope.Served
	// RefreshStatusAlways rewrites status.refreshTime on every periodic refresh,
	// as ESO does (one status write per object per interval). By default a
	// refresh that changed nothing writes no status; the next refresh is
	// scheduled from memory.
	RefreshStatusAlways bool
	// LeaseKey seals the lease records kept in generator state Secrets
	// (operatorkey.Key); without it no lease record is trusted or written.
	LeaseKey generatorstate.Sealer
	// SyncBudget is each namespace's share of syncs (nil: no bound); a sync
	// past it waits, with a Throttled event. Lease renewals never wait.
	SyncBudget *syncbudget.Budget
	// MinGeneratorRotation is the shortest life of Password and UUID values
	// (0: DefaultMinGeneratorRotation).
	MinGeneratorRotation time.Duration
	// Changes is what the change feed and the refresh endpoint make due
	// (instant updates); nil: refreshes follow the interval only.
	Changes *RemoteChanges

	memo syncMemo
	// firstSyncEvents bounds the SecretSynced events of first syncs
	// (firstSyncEventRate): thousands of objects created at once would
	// otherwise cost the API server an event write each, as much as their
	// Secrets. Events of failures and of later changes are never dropped.
	firstSyncEvents firstSyncBudget
	// targets watches the target Secret of an object waiting for its deletion
	// or creation (targetwatch.go); nil in unit tests.
	targets *targetwatch.Watcher
	// once builds ledger, the lease ledger of dynamic secrets, and build,
	// the desired-Secret builder that keeps through it, from the fields
	// above on first use (leases, builder).
	once   sync.Once
	ledger *ledger.Ledger
	build  *desired.Builder
}

// wire builds the lease ledger and the desired-Secret builder from the
// Reconciler's own dependencies.
func (r *Reconciler) wire() {
	r.once.Do(func() {
		r.ledger = &ledger.Ledger{Client: r.Client, APIReader: r.APIReader, Provider: r.Provider, Recorder: r.Recorder,
			Metrics: r.Metrics, Clock: r.Clock, Scope: r.Scope, LeaseKey: r.LeaseKey}
		r.build = &desired.Builder{Cache: r.Client, Live: r.APIReader, Provider: r.Provider, Kube: r.kube(),
			Scope: r.Scope, Clock: r.Clock, MinRotation: r.MinGeneratorRotation, Keeper: r.ledger}
	})
}

// leases is the lease ledger.
func (r *Reconciler) leases() *ledger.Ledger {
	r.wire()
	return r.ledger
}

// builder is the desired-Secret builder, which keeps generated values and
// leases in the lease ledger.
func (r *Reconciler) builder() *desired.Builder {
	r.wire()
	return r.build
}

// +kubebuilder:rbac:groups=baosync.io,resources=externalsecrets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=baosync.io,resources=externalsecrets/status,verbs=patch
// +kubebuilder:rbac:groups=baosync.io,resources=secretstores;clustersecretstores,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=passwords;uuids;vaultdynamicsecrets;clustergenerators,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts/token,verbs=create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one ExternalSecret's target Secret in line with the remote
// values, or records why it cannot.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res outcome.Result) {
	es := &v1alpha1.ExternalSecret{}
	if err := r.Get(ctx, req.NamespacedName, es); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.memo.drop(req.NamespacedName)
			r.targets.Stop(req.NamespacedName)
			r.Changes.forget(req.NamespacedName)
		}
		return outcome.Failed(client.IgnoreNotFound(err), 0)
	}
	if !es.DeletionTimestamp.IsZero() {
		// The owner reference lets the garbage collector remove an owned
		// Secret; leases of dynamic secrets are revoked first. A watch of its
		// target is given back at once for others.
		r.targets.Stop(req.NamespacedName)
		return r.leases().Finalize(ctx, es)
	}
	before := es.DeepCopy()
	defer func() { res.Err = r.patchStatus(ctx, before, es, res.Err) }()

	target, err := r.getTarget(ctx, es)
	if err != nil {
		return r.fail(ctx, es, err)
	}
	cause, wait, change := r.syncDue(es, target)
	if cause == noSync {
		return r.notDue(ctx, es, wait)
	}
	start := r.Clock.Now()
	store, err := r.builder().Store(ctx, es)
	if errors.Is(err, storeref.ErrOtherController) {
		return outcome.Next(0) // another operator's object: leave it and its status alone
	}
	if err != nil {
		return r.fail(ctx, es, err)
	}
	built, err := r.builder().Build(ctx, es, store, r.readAge(cause, es, change))
	r.recordBuild(es, built)
	if errors.Is(err, desired.ErrRemoteGone) {
		return r.remoteGone(ctx, es, target, err)
	}
	if r.refreshCanWait(cause, es, built, err) {
		return r.deferRefresh(es, err)
	}
	if err != nil {
		return r.fail(ctx, es, err)
	}
	wrote, err := r.apply(ctx, es, target, built.Secret)
	if err != nil {
		return r.fail(ctx, es, err)
	}
	if wrote && target != nil {
		r.restartWorkloads(ctx, es) // data changed under running workloads
	}
	r.Metrics.SyncDuration.WithLabelValues("ExternalSecret").Observe(r.Clock.Since(start).Seconds())
	r.remoteSynced(es, wrote, cause, change)
	return r.succeed(es, wrote, cause)
}

// recordBuild keeps what a build leaves behind, also when it failed: the
// generated status of the state it saved, and the paths it read for the
// change feed (a missing path that appears must wake the object).
func (r *Reconciler) recordBuild(es *v1alpha1.ExternalSecret, built *desired.Result) {
	if built.GeneratedKept {
		es.Status.Generated = built.Generated
	}
	if r.Changes != nil && built.Stores != nil {
		r.indexReads(es, built.Stores.StoreOf, built.ReadAt)
	}
}

// logger returns the reconcile's logger.
func logger(ctx context.Context) logr.Logger { return ctrl.LoggerFrom(ctx) }

// kube returns the narrow cluster view handed to the provider.
func (r *Reconciler) kube() providers.Kube {
	return &kubeaccess.Access{Reader: r.APIReader, Writer: r.Client, Namespaces: r.Client}
}
