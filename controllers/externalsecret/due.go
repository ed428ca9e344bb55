package externalsecret

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/ledger"
	"github.com/baosync/baosync/internal/outcome"
)

// syncDue decides whether this reconcile reads the remote values, and if not,
// when to look again. It reads no server: a reconcile that was triggered by
// baosync's own write of the Secret, or by a status change, costs nothing.
func (r *Reconciler) syncDue(es *v1alpha1.ExternalSecret, target *corev1.Secret) (syncCause, time.Duration, remoteChange) {
	in := r.syncInputOf(es, target)
	change, remote := r.Changes.take(client.ObjectKeyFromObject(es))
	in.remoteChanged = remote
	cause, wait := decideSync(in)
	if remote && cause != syncRemote && cause != noSync {
		change.what = "" // another cause syncs anyway, with its own event
	}
	if cause == noSync || cause == syncLease || in.leaseDue() {
		return cause, wait, change // a lease expires whatever a sync window or the budget says
	}
	if wait := r.windowClosed(es, cause, in); wait > 0 {
		if remote {
			r.Changes.putBack(client.ObjectKeyFromObject(es), change)
		}
		return noSync, wait, change
	}
	if wait := r.takeBudget(es, in, change); wait > 0 {
		return noSync, wait, change
	}
	return cause, wait, change
}

// syncInputOf is what decideSync looks at for es, but a remote change: its
// status, its target, and what this process remembers of its last sync.
func (r *Reconciler) syncInputOf(es *v1alpha1.ExternalSecret, target *corev1.Secret) syncInput {
	in := syncInput{
		now:           r.Clock.Now(),
		policy:        es.Spec.RefreshPolicy,
		interval:      es.EffectiveRefreshInterval(),
		refreshTime:   es.Status.RefreshTime.Time,
		neverSynced:   es.Status.SyncedResourceVersion == "",
		specChanged:   es.Status.SyncedResourceVersion != resourceVersionOf(es),
		lastFailed:    !isReady(es),
		targetMissing: target == nil,
		targetDrifted: target != nil && drifted(target),
		writesNothing: es.Spec.Target.CreationPolicy == v1alpha1.CreationPolicyNone,
		generatedDue:  ledger.Due(es),
	}
	// The cached status may predate this operator's own last sync.
	rec, remembered := r.memo.recall(client.ObjectKeyFromObject(es), es.UID)
	if remembered && rec.version == resourceVersionOf(es) && rec.at.After(in.refreshTime) {
		in.refreshTime, in.neverSynced, in.specChanged, in.lastFailed = rec.at, false, false, false
		in.generatedDue = rec.generatedDue
	}
	if !remembered && ledger.Holds(es) {
		// New to this process (a restart, a new leader): the login token
		// that owns each lease must be taken into custody now, not at the
		// lease's renewal, by which time a short-lived token has expired
		// and taken the lease with it.
		in.generatedDue = in.now
	}
	in.generatorChanged = r.memo.takeStale(client.ObjectKeyFromObject(es))
	return in
}

// windowClosed is how long a periodic refresh, or one a remote change asked
// for, waits for the object's syncWindows; 0 when it may run. Other causes
// (a first sync, a change, a retry, a repair) never wait. A schedule that
// does not parse leaves the refresh alone, with a Warning event. The wait
// ends at the object's lease, if one is due sooner: a lease is renewed
// whatever the window says (decideSync).
func (r *Reconciler) windowClosed(es *v1alpha1.ExternalSecret, cause syncCause, in syncInput) time.Duration {
	if es.Spec.SyncWindows == nil || (cause != syncPeriodic && cause != syncRemote) {
		return 0
	}
	wait, err := windowWait(es.Spec.SyncWindows, in.now)
	if err != nil {
		r.Recorder.Eventf(es, nil, corev1.EventTypeWarning, v1alpha1.ReasonInvalidSpec, "Sync", "%v; the refresh runs as if no window were set", err)
		return 0
	}
	if wait > 0 && !in.generatedDue.IsZero() {
		wait = min(wait, max(in.generatedDue.Sub(in.now), time.Second))
	}
	return wait
}

// takeBudget takes a sync from the namespace's share; past it, the sync
// waits the returned time, keeping what made it due, with a Throttled event
// once a minute per namespace (an event per deferral would cost the writes
// it saves).
func (r *Reconciler) takeBudget(es *v1alpha1.ExternalSecret, in syncInput, change remoteChange) time.Duration {
	wait, tell := r.SyncBudget.Take(es.Namespace, in.now)
	if wait <= 0 {
		return 0
	}
	if in.generatorChanged {
		r.memo.markStale(client.ObjectKeyFromObject(es)) // still to do
	}
	if in.remoteChanged {
		r.Changes.putBack(client.ObjectKeyFromObject(es), change)
	}
	if tell {
		r.Recorder.Eventf(es, nil, corev1.EventTypeWarning, v1alpha1.ReasonThrottled, "Sync",
			"namespace %q is past its share of syncs (--namespace-sync-rate); its syncs wait, this one %s", es.Namespace, wait.Round(time.Millisecond))
	}
	return wait
}

// syncInput is everything decideSync looks at.
type syncInput struct {
	now           time.Time
	policy        v1alpha1.RefreshPolicy
	interval      time.Duration
	refreshTime   time.Time
	neverSynced   bool
	specChanged   bool
	lastFailed    bool
	targetMissing bool
	targetDrifted bool
	writesNothing bool
	// generatorChanged: a generator the object uses was changed or deleted
	// since its last sync.
	generatorChanged bool
	// remoteChanged: the audit stream or the refresh endpoint reported a
	// change of a path the object reads since its last sync.
	remoteChanged bool
	// generatedDue is when a generated entry needs the operator again: a
	// dynamic secret's renewal or rotation, a retired lease's revocation, or a
	// Password's or UUID's rotation; zero for none. It applies under every
	// refresh policy: a lease expires whatever the policy says.
	generatedDue time.Time
}

// leaseDue reports a lease that needs the server now.
func (in syncInput) leaseDue() bool {
	return !in.generatedDue.IsZero() && !in.now.Before(in.generatedDue)
}

// syncCause says why a reconcile reads the remote values; it decides how old a
// cached read may be.
type syncCause int

const (
	// noSync: nothing is due.
	noSync syncCause = iota
	// syncFirst: the ExternalSecret was never synced.
	syncFirst
	// syncChanged: its spec, labels or annotations (force-sync) changed.
	syncChanged
	// syncRetry: the last attempt failed.
	syncRetry
	// syncRepair: the target Secret is missing or was edited.
	syncRepair
	// syncPeriodic: the refresh interval elapsed.
	syncPeriodic
	// syncLease: a dynamic secret's lease needs the server.
	syncLease
	// syncGenerator: a generator the object uses changed; its other entries
	// may be served from the read cache.
	syncGenerator
	// syncRemote: a path the object reads changed on the server (instant
	// updates); reads made since the change was learnt may be shared.
	syncRemote
)

// decideSync is the pure refresh decision: sync at once after a change of the
// ExternalSecret or a failure, when the target Secret is missing or was edited
// (drift), and otherwise when the refresh interval has elapsed.
func decideSync(in syncInput) (syncCause, time.Duration) {
	cause, wait := decideRefresh(in)
	if cause != noSync || in.generatedDue.IsZero() {
		return cause, wait
	}
	if in.leaseDue() {
		return syncLease, 0
	}
	if untilLease := in.generatedDue.Sub(in.now); wait == 0 || untilLease < wait {
		return noSync, untilLease
	}
	return noSync, wait
}

// changeCause is the cause of a sync that something other than time asks
// for, if any: a first sync, a change, a failure, a changed generator.
func changeCause(in syncInput) (syncCause, bool) {
	switch {
	case in.neverSynced:
		return syncFirst, true
	case in.specChanged:
		return syncChanged, true
	case in.lastFailed:
		return syncRetry, true
	case in.generatorChanged && in.policy != v1alpha1.RefreshPolicyCreatedOnce:
		// CreatedOnce never replaces a Secret that exists: a database set up
		// with the first password must not see it change under it.
		return syncGenerator, true
	case in.remoteChanged && in.policy != v1alpha1.RefreshPolicyCreatedOnce:
		return syncRemote, true
	}
	return noSync, false
}

// decideRefresh is decideSync without leases.
func decideRefresh(in syncInput) (syncCause, time.Duration) {
	if cause, ok := changeCause(in); ok {
		return cause, 0
	}
	repair := (in.targetMissing || in.targetDrifted) && !in.writesNothing
	switch in.policy {
	case v1alpha1.RefreshPolicyCreatedOnce:
		if in.targetMissing && !in.writesNothing {
			return syncRepair, 0
		}
		return noSync, 0
	case v1alpha1.RefreshPolicyOnChange:
		if repair {
			return syncRepair, 0
		}
		return noSync, 0
	}
	if repair {
		return syncRepair, 0
	}
	if in.interval <= 0 {
		return noSync, 0
	}
	next := in.refreshTime.Add(in.interval)
	if !in.now.Before(next) {
		return syncPeriodic, 0
	}
	return noSync, outcome.Jitter(next.Sub(in.now))
}

// Shared-read windows: a first sync may use a read of the same path made
// within firstSyncReadWindow (long enough for a burst of thousands of new
// objects on one path to share it, and the value was current then), or any
// read made since the object was created, up to firstSyncBurstWindow (when
// tens of thousands are created at once, the last one's first sync comes
// minutes after its creation; a read made after it is as current as the user
// asked); a retry after a failure one made within retryReadWindow.
const (
	firstSyncReadWindow  = 30 * time.Second
	firstSyncBurstWindow = 5 * time.Minute
	retryReadWindow      = 5 * time.Second
)

// maxReadAge is how old a cached read of the same path may be for this sync: a
// periodic refresh or a repair accepts a read made within its own refresh
// interval, a first sync or a retry one made within seconds, and a change of
// the ExternalSecret (force-sync included) always asks the server. No window
// is longer than the ExternalSecret's own refresh interval, except a first
// sync's read made after the object's creation.
func maxReadAge(cause syncCause, es *v1alpha1.ExternalSecret, now time.Time) time.Duration {
	interval := es.EffectiveRefreshInterval()
	switch cause {
	case syncPeriodic, syncRepair, syncLease, syncGenerator:
		return interval
	case syncFirst:
		// Not capped by the interval: a read made since the object was
		// created is as current as its user asked, and its next refresh, one
		// interval later, reads within the interval. In a burst of tens of
		// thousands, that is what lets one read serve a path's objects.
		// Only a true first attempt: an object that failed, or was edited
		// or forced after a failure, has a Ready condition, and its user
		// may be waiting for a value fixed or rotated since.
		window := capAt(firstSyncReadWindow, interval)
		created := es.CreationTimestamp.Time
		if !created.IsZero() && meta.FindStatusCondition(es.Status.Conditions, v1alpha1.ConditionReady) == nil {
			window = max(window, min(now.Sub(created), firstSyncBurstWindow))
		}
		return window
	case syncRetry:
		return capAt(retryReadWindow, interval)
	}
	return 0
}

// readAge is maxReadAge, and for a sync a change caused, the time since the
// change was learnt: every object the change made due shares one read made
// after it, none uses one made before.
func (r *Reconciler) readAge(cause syncCause, es *v1alpha1.ExternalSecret, change remoteChange) time.Duration {
	if cause != syncRemote {
		return maxReadAge(cause, es, r.Clock.Now())
	}
	return capAt(max(r.Clock.Since(change.at), 0), es.EffectiveRefreshInterval())
}

// capAt returns d, no longer than limit when limit is positive.
func capAt(d, limit time.Duration) time.Duration {
	if limit > 0 && limit < d {
		return limit
	}
	return d
}

func isReady(es *v1alpha1.ExternalSecret) bool {
	return meta.IsStatusConditionTrue(es.Status.Conditions, v1alpha1.ConditionReady)
}

// resourceVersionOf identifies what was synced: the generation (spec) and a hash
// of labels and annotations, so that a new value of the force-sync annotation
// triggers a sync.
func resourceVersionOf(es *v1alpha1.ExternalSecret) string {
	return fmt.Sprintf("%d-%s", es.Generation, hashStrings(es.Labels, es.Annotations))
}

// hashStrings hashes string maps in a stable order.
func hashStrings(maps ...map[string]string) string {
	h := sha256.New()
	for _, m := range maps {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_, _ = fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(m[k]), m[k])
		}
		_, _ = h.Write([]byte{'|'})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
