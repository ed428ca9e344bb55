package externalsecret

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/conditions"
	"github.com/baosync/baosync/controllers/internal/ledger"
	"github.com/baosync/baosync/controllers/internal/statuspatch"
	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/storeref"
)

// fail is the one failure path: Ready=False with the error's Reason, a Warning
// event when the state changed, and a metric. It returns the classified error
// with the refresh interval as the delay of a waiting one; outcome.Retrying
// logs it once and decides the retry. The target Secret is not touched here or
// anywhere on this path.
func (r *Reconciler) fail(_ context.Context, es *v1alpha1.ExternalSecret, err error) outcome.Result {
	oe := outcome.As(err, v1alpha1.ReasonProviderUnavailable)
	r.memo.forget(client.ObjectKeyFromObject(es))
	msg := fmt.Sprintf("%s: %v", storeName(es), oe.Err)
	if es.Spec.SecretStoreRef.IsZero() || oe.Reason == v1alpha1.ReasonGeneratorNotFound || oe.Reason == v1alpha1.ReasonGeneratorFailed {
		msg = oe.Err.Error() // it names its entry or generator; spec.secretStoreRef has nothing to do with it
	}
	r.setReady(es, metav1.ConditionFalse, oe.Reason, msg)
	r.Metrics.SyncCalls.WithLabelValues("ExternalSecret", oe.Reason).Inc()
	return outcome.Failed(r.keepLeaseTimer(es, oe), es.EffectiveRefreshInterval())
}

// maxRefreshDeferral is how long a periodic refresh may wait for a store's
// request budget with Ready left True; past it, the wait shows as
// Ready=False, Throttled, as any other failure. It also bounds how long a
// tenant that spends a shared store's whole budget can leave another's
// objects looking current.
const maxRefreshDeferral = 5 * time.Minute

// refreshCanWait reports a build failure that only puts off a periodic
// refresh of an object in sync: every failing entry waited for a store's
// request budget (its namespace's share or the store's whole budget), as a
// burst of refreshes falling due at once does (after a restart, say), for at
// most maxRefreshDeferral. Any other cause (a first sync, a change of the
// object, the remote path or a generator, a repair, a lease) has a user or a
// lease waiting, and fails; so does an object with generated entries, whose
// build may have issued or rotated values the Secret must then get.
func (r *Reconciler) refreshCanWait(cause syncCause, es *v1alpha1.ExternalSecret, built *desired.Result, err error) bool {
	if err == nil || built == nil || !built.ThrottledOnly || cause != syncPeriodic || !isReady(es) || generates(es) {
		return false
	}
	now := r.Clock.Now()
	return now.Sub(r.memo.deferredSince(client.ObjectKeyFromObject(es), now)) < maxRefreshDeferral
}

// generates reports whether es has generated entries or state.
func generates(es *v1alpha1.ExternalSecret) bool {
	return len(es.Status.Generated) > 0 || slices.ContainsFunc(es.Spec.DataFrom, v1alpha1.ExternalSecretDataFromRemoteRef.Generated)
}

// deferRefresh puts off such a refresh (refreshCanWait) until the budget
// allows it. The Secret still holds the last values, so Ready stays True and
// nothing is written: Ready=False and back would cost two status writes and
// two events per object, 6,012 writes in a restart at 100,000 objects. The
// namespace gets one Throttled event a minute, as for its share of syncs.
// The failure is still logged and counted (outcome.Retrying).
func (r *Reconciler) deferRefresh(es *v1alpha1.ExternalSecret, err error) outcome.Result {
	oe := outcome.As(outcome.FromProvider(err), v1alpha1.ReasonThrottled)
	r.Metrics.SyncCalls.WithLabelValues("ExternalSecret", oe.Reason).Inc()
	if r.SyncBudget.Tell(es.Namespace, r.Clock.Now()) {
		r.Recorder.Eventf(es, nil, corev1.EventTypeWarning, v1alpha1.ReasonThrottled, "Sync",
			"refreshes in namespace %q wait for the store's request budget (%v); this one %s",
			es.Namespace, oe.Err, oe.After.Round(time.Millisecond))
	}
	return outcome.Failed(oe, es.EffectiveRefreshInterval())
}

// keepLeaseTimer turns a terminal failure of an ExternalSecret that holds a
// lease into a wait until the lease is due: a terminal error is otherwise not
// retried until the object changes, and the lease would expire unrenewed (or a
// retired one stay unrevoked) while a user fixes an unrelated entry.
func (r *Reconciler) keepLeaseTimer(es *v1alpha1.ExternalSecret, oe *outcome.Error) *outcome.Error {
	due := ledger.Due(es)
	if oe.Class != outcome.Terminal || due.IsZero() {
		return oe
	}
	return &outcome.Error{Reason: oe.Reason, Class: outcome.Waiting, After: max(due.Sub(r.Clock.Now()), time.Second), Err: oe.Err}
}

// succeed records a sync: Ready=True, refreshTime, the synced version, and the
// next refresh (jittered) for the Periodic policy. A periodic refresh that
// changed nothing leaves the status as it was (unless RefreshStatusAlways), so
// that an idle cluster costs the API server no writes.
func (r *Reconciler) succeed(es *v1alpha1.ExternalSecret, wrote bool, cause syncCause) outcome.Result {
	now := r.Clock.Now()
	quiet := cause == syncPeriodic && !wrote && isReady(es) && !r.RefreshStatusAlways
	if !quiet {
		es.Status.RefreshTime = metav1.NewTime(now)
	}
	es.Status.SyncedResourceVersion = resourceVersionOf(es)
	r.memo.remember(client.ObjectKeyFromObject(es), es.UID, es.Status.SyncedResourceVersion, now, ledger.Due(es))
	r.targets.Stop(client.ObjectKeyFromObject(es))
	msg := fmt.Sprintf("Secret %q is in sync with %s", es.TargetName(), storeName(es))
	if es.Spec.Target.CreationPolicy == v1alpha1.CreationPolicyNone {
		msg = fmt.Sprintf("Values read from %s; creationPolicy None writes no Secret", storeName(es))
	} else {
		es.Status.Binding = corev1.LocalObjectReference{Name: es.TargetName()}
	}
	if wrote && isReady(es) {
		r.Recorder.Eventf(es, nil, corev1.EventTypeNormal, v1alpha1.ReasonSecretSynced, "Update",
			"Secret %q updated with new values from %s", es.TargetName(), storeName(es))
	}
	if meta.FindStatusCondition(es.Status.Conditions, v1alpha1.ConditionReady) == nil && !r.firstSyncEvents.Allow() {
		// A bulk first sync: the condition tells, without an event per object.
		conditions.Set(&es.Status.Conditions, es.Generation, metav1.ConditionTrue, v1alpha1.ReasonSecretSynced, msg)
	} else {
		r.setReady(es, metav1.ConditionTrue, v1alpha1.ReasonSecretSynced, msg)
	}
	r.Metrics.SyncCalls.WithLabelValues("ExternalSecret", v1alpha1.ReasonSecretSynced).Inc()
	return outcome.Next(nextSync(es, now))
}

// nextSync is the delay to the next sync: the jittered refresh interval under
// the Periodic policy, or sooner when a dynamic secret's lease needs the
// server; 0 for none.
func nextSync(es *v1alpha1.ExternalSecret, now time.Time) time.Duration {
	var wait time.Duration
	interval := es.EffectiveRefreshInterval()
	if interval > 0 && es.Spec.RefreshPolicy != v1alpha1.RefreshPolicyOnChange && es.Spec.RefreshPolicy != v1alpha1.RefreshPolicyCreatedOnce {
		wait = outcome.Jitter(interval)
	}
	if due := ledger.Due(es); !due.IsZero() {
		untilLease := max(due.Sub(now), time.Second)
		if wait == 0 || untilLease < wait {
			wait = untilLease
		}
	}
	return wait
}

// setReady sets the Ready condition, with an event when it changes.
func (r *Reconciler) setReady(es *v1alpha1.ExternalSecret, status metav1.ConditionStatus, reason, msg string) {
	conditions.SetReady(r.Recorder, es, &es.Status.Conditions, es.Generation, status, reason, "Sync", msg)
}

// patchStatus writes the status once per reconcile, and only when it changed.
func (r *Reconciler) patchStatus(ctx context.Context, before, es *v1alpha1.ExternalSecret, failure error) error {
	return errors.Join(failure, statuspatch.IfChanged(ctx, r.Client, before, es,
		func(o *v1alpha1.ExternalSecret) any { return o.Status }))
}

// waitDelay is the delay after a sync that leaves nothing to do until the
// remote secret changes: the refresh interval, at most outcome.MaxWait.
func waitDelay(es *v1alpha1.ExternalSecret) time.Duration {
	return outcome.Wait(0, es.EffectiveRefreshInterval())
}

// storeName names the store for messages, e.g. `ClusterSecretStore "vault"`,
// or the sources of an ExternalSecret without one.
func storeName(es *v1alpha1.ExternalSecret) string {
	if es.Spec.SecretStoreRef.IsZero() {
		return "its sources"
	}
	return storeref.Describe(es.Spec.SecretStoreRef)
}

// First syncs announced by an event: at most firstSyncEventBurst at once,
// then firstSyncEventRate a second, operator-wide. Past it a first sync
// still sets Ready=True (what `kubectl get` and `describe` show); creating a
// few objects still shows each one's event.
const (
	firstSyncEventRate  = 10
	firstSyncEventBurst = 100
)

// firstSyncBudget is the token bucket of first-sync events, made on first use.
type firstSyncBudget struct {
	once sync.Once
	lim  *rate.Limiter
}

// Allow takes one first-sync event, or reports that none is left.
func (b *firstSyncBudget) Allow() bool {
	b.once.Do(func() { b.lim = rate.NewLimiter(firstSyncEventRate, firstSyncEventBurst) })
	return b.lim.Allow()
}
