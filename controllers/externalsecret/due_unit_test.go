package externalsecret

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/syncbudget"
)

func TestDecideSync(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fresh := syncInput{now: now, interval: time.Hour, refreshTime: now.Add(-10 * time.Minute)}
	with := func(f func(*syncInput)) syncInput { in := fresh; f(&in); return in }
	cases := []struct {
		name     string
		in       syncInput
		cause    syncCause
		waitMore time.Duration // the requeue is at least this long (0: none)
	}{
		{name: "waits out the rest of the interval when nothing changed", in: fresh, waitMore: 50 * time.Minute},
		{name: "syncs when the interval has elapsed", in: with(func(in *syncInput) { in.refreshTime = now.Add(-61 * time.Minute) }), cause: syncPeriodic},
		{name: "syncs an ExternalSecret that was never synced", in: with(func(in *syncInput) { in.neverSynced = true; in.specChanged = true }), cause: syncFirst},
		{name: "syncs at once when the spec, labels or annotations changed", in: with(func(in *syncInput) { in.specChanged = true }), cause: syncChanged},
		{name: "syncs at once after a failure", in: with(func(in *syncInput) { in.lastFailed = true }), cause: syncRetry},
		{name: "restores a missing target Secret", in: with(func(in *syncInput) { in.targetMissing = true }), cause: syncRepair},
		{name: "repairs a drifted target Secret", in: with(func(in *syncInput) { in.targetDrifted = true }), cause: syncRepair},
		{name: "never refreshes by itself with interval 0", in: with(func(in *syncInput) { in.interval = 0; in.refreshTime = now.Add(-100 * time.Hour) })},
		{name: "CreatedOnce ignores drift of an existing Secret", in: with(func(in *syncInput) {
			in.policy = v1alpha1.RefreshPolicyCreatedOnce
			in.targetDrifted = true
			in.refreshTime = now.Add(-100 * time.Hour)
		})},
		{name: "CreatedOnce creates a missing Secret", in: with(func(in *syncInput) { in.policy = v1alpha1.RefreshPolicyCreatedOnce; in.targetMissing = true }), cause: syncRepair},
		{name: "OnChange does not refresh on the interval", in: with(func(in *syncInput) {
			in.policy = v1alpha1.RefreshPolicyOnChange
			in.refreshTime = now.Add(-100 * time.Hour)
		})},
		{name: "creationPolicy None does not chase a missing Secret", in: with(func(in *syncInput) { in.writesNothing = true; in.targetMissing = true }), waitMore: 50 * time.Minute},
		{name: "a changed generator syncs at once", in: with(func(in *syncInput) { in.generatorChanged = true }), cause: syncGenerator},
		{name: "a changed generator syncs an OnChange object at once", in: with(func(in *syncInput) {
			in.policy = v1alpha1.RefreshPolicyOnChange
			in.generatorChanged = true
		}), cause: syncGenerator},
		{name: "CreatedOnce keeps an existing Secret when a generator changes", in: with(func(in *syncInput) {
			in.policy = v1alpha1.RefreshPolicyCreatedOnce
			in.generatorChanged = true
		})},
		{name: "a lease due before the refresh wakes the object then", in: with(func(in *syncInput) { in.generatedDue = now.Add(10 * time.Minute) }), waitMore: 10 * time.Minute},
		{name: "a lease due later than the refresh leaves the refresh first", in: with(func(in *syncInput) { in.generatedDue = now.Add(3 * time.Hour) }), waitMore: 50 * time.Minute},
		{name: "a lease that is due syncs at once", in: with(func(in *syncInput) { in.generatedDue = now.Add(-time.Second) }), cause: syncLease},
		{name: "OnChange still keeps a lease", in: with(func(in *syncInput) {
			in.policy = v1alpha1.RefreshPolicyOnChange
			in.generatedDue = now.Add(5 * time.Minute)
		}), waitMore: 5 * time.Minute},
		{name: "CreatedOnce renews a due lease", in: with(func(in *syncInput) {
			in.policy = v1alpha1.RefreshPolicyCreatedOnce
			in.generatedDue = now
		}), cause: syncLease},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cause, wait := decideSync(tc.in)
			g.Expect(cause).To(Equal(tc.cause))
			if tc.waitMore > 0 {
				g.Expect(wait).To(BeNumerically(">=", tc.waitMore))
				g.Expect(wait).To(BeNumerically("<=", tc.waitMore*12/10))
			} else {
				g.Expect(wait).To(BeZero())
			}
		})
	}
}

func TestResourceVersionOf_ChangesWithAnnotations(t *testing.T) {
	g := NewWithT(t)
	es := newES("ns", "a", "s")
	before := resourceVersionOf(es)
	es.Annotations = map[string]string{v1alpha1.AnnotationForceSync: "1"}
	g.Expect(resourceVersionOf(es)).NotTo(Equal(before))
}

// TestSyncDue_AStaleCachedStatusStillWaitsForTheLease: the reconcile that
// follows a sync sees the cached status from before it, without the lease the
// sync recorded. It must still schedule the lease's renewal from memory: under
// the priority queue its event replaced the sync's delayed requeue, and a
// reconcile that returns no delay would leave the lease to expire.
func TestSyncDue_AStaleCachedStatusStillWaitsForTheLease(t *testing.T) {
	for _, tc := range []struct {
		name     string
		remember bool
		want     time.Duration
	}{
		{name: "the lease due that the last sync remembered is kept", remember: true, want: 7 * time.Second},
		{name: "without a memory there is nothing to wait for", remember: false, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, _ := unitReconciler(t)
			es := unitES(v1alpha1.CreationPolicyNone, v1alpha1.DeletionPolicyRetain)
			es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyCreatedOnce
			es.Status.RefreshTime = metav1.NewTime(unitNow.Add(-time.Minute))
			es.Status.SyncedResourceVersion = resourceVersionOf(es)
			meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
				Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced})
			if tc.remember {
				r.memo.remember(client.ObjectKeyFromObject(es), es.UID, resourceVersionOf(es), unitNow.Add(-time.Second), unitNow.Add(7*time.Second))
			}
			cause, wait, _ := r.syncDue(es, nil)
			g.Expect(cause).To(Equal(noSync))
			g.Expect(wait).To(Equal(tc.want))
		})
	}
}

// TestSyncDue_AClosedWindowStillWakesTheObjectForItsLease: a deny window
// holds a due refresh, or one a remote change asked for, but not past the
// lease: the object wakes when the lease is due, and then syncs whatever the
// window says, for the refresh's own cause.
func TestSyncDue_AClosedWindowStillWakesTheObjectForItsLease(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remote bool
		cause  syncCause
	}{
		{name: "a periodic refresh", cause: syncPeriodic},
		{name: "a remote change", remote: true, cause: syncRemote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, _ := unitReconciler(t)
			r.Changes = NewRemoteChanges(nil)
			es := unitES(v1alpha1.CreationPolicyNone, v1alpha1.DeletionPolicyRetain) // no target to repair
			es.Spec.SyncWindows = &v1alpha1.SyncWindows{Kind: v1alpha1.SyncWindowDeny,
				Windows: []v1alpha1.SyncWindow{{Schedule: "* * * * *", Duration: metav1.Duration{Duration: time.Hour}}}}
			es.Status.RefreshTime = metav1.NewTime(unitNow.Add(-2 * time.Hour)) // the refresh is due
			es.Status.SyncedResourceVersion = resourceVersionOf(es)
			meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
				Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced})
			renewal := metav1.NewTime(unitNow.Add(7 * time.Second))
			es.Status.Generated = []v1alpha1.GeneratedStatus{{Kind: "VaultDynamicSecret", Name: "db", LeaseID: "l", NextRenewalTime: &renewal}}
			key := client.ObjectKeyFromObject(es)
			// This process synced it (else its first reconcile takes the lease's token into custody).
			r.memo.remember(key, es.UID, resourceVersionOf(es), es.Status.RefreshTime.Time, renewal.Time)
			if tc.remote {
				es.Status.RefreshTime = metav1.NewTime(unitNow.Add(-time.Second))
				r.memo.remember(key, es.UID, resourceVersionOf(es), es.Status.RefreshTime.Time, renewal.Time)
				r.Changes.putBack(key, remoteChange{at: unitNow.Add(-time.Second), what: "a change"})
			}

			cause, wait, _ := r.syncDue(es, nil)
			g.Expect(cause).To(Equal(noSync), "the window holds it")
			g.Expect(wait).To(Equal(7*time.Second), "but not past the lease")

			r.Clock.(*clocktesting.FakeClock).Step(7 * time.Second)
			cause, _, _ = r.syncDue(es, nil)
			g.Expect(cause).To(Equal(tc.cause), "with the lease due it runs whatever the window says")
		})
	}
}

// TestSyncDue_ANamespacePastItsShareWaitsWithAnEvent: issue 21's fourth
// attack in the small: past its namespace's share a due sync waits (and says
// so once per wait in an event); another namespace's does not.
func TestSyncDue_ANamespacePastItsShareWaitsWithAnEvent(t *testing.T) {
	g := NewWithT(t)
	r, rec := unitReconciler(t)
	r.SyncBudget = syncbudget.New(1, 2)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain) // never synced: due
	for range 2 {
		cause, _, _ := r.syncDue(es, nil)
		g.Expect(cause).To(Equal(syncFirst))
	}
	cause, wait, _ := r.syncDue(es, nil)
	g.Expect(cause).To(Equal(noSync))
	g.Expect(wait).To(BeNumerically(">", 0))
	g.Expect(<-rec.Events).To(And(ContainSubstring(v1alpha1.ReasonThrottled), ContainSubstring("--namespace-sync-rate")))
	other := es.DeepCopy()
	other.Namespace = "quiet"
	cause, _, _ = r.syncDue(other, nil)
	g.Expect(cause).To(Equal(syncFirst), "another namespace's sync waited")
}

func TestMaxReadAge(t *testing.T) {
	es := newES("ns", "a", "s")
	cases := []struct {
		cause syncCause
		want  time.Duration
	}{
		{cause: syncPeriodic, want: time.Minute}, // the ExternalSecret's own refresh interval
		{cause: syncRepair, want: time.Minute},
		{cause: syncFirst, want: firstSyncReadWindow},
		{cause: syncRetry, want: retryReadWindow},
		{cause: syncChanged, want: 0}, // a spec change or force-sync always asks the server
	}
	for _, tc := range cases {
		NewWithT(t).Expect(maxReadAge(tc.cause, es, time.Now())).To(Equal(tc.want), "cause %d", tc.cause)
	}
}

// TestMaxReadAge_AFirstSyncUsesAnyReadMadeSinceItsObjectWasCreated: in a
// burst of tens of thousands of new objects, the last ones' first syncs come
// minutes after their creation; a read of their path made since then is as
// current as their user asked, up to firstSyncBurstWindow, and never older
// than the refresh interval.
func TestMaxReadAge_AFirstSyncUsesAnyReadMadeSinceItsObjectWasCreated(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		age, interval, want time.Duration
	}{
		{age: 10 * time.Second, interval: time.Hour, want: firstSyncReadWindow},    // created just now: the burst window
		{age: 3 * time.Minute, interval: time.Hour, want: 3 * time.Minute},         // waited 3 minutes: reads since its creation
		{age: time.Hour, interval: time.Hour, want: firstSyncBurstWindow},          // waited long (a failing store): at most 5 minutes
		{age: 3 * time.Minute, interval: time.Minute, want: 3 * time.Minute},       // since its creation even past its interval: the next refresh reads within it
		{age: 2 * time.Second, interval: 10 * time.Second, want: 10 * time.Second}, // the burst window, no longer than a short interval
		{age: 20 * time.Second, interval: 10 * time.Second, want: 20 * time.Second},
	} {
		es := newES("ns", "a", "s")
		es.CreationTimestamp = metav1.NewTime(now.Add(-tc.age))
		es.Spec.RefreshInterval = &metav1.Duration{Duration: tc.interval}
		NewWithT(t).Expect(maxReadAge(syncFirst, es, now)).To(Equal(tc.want), "created %s ago, interval %s", tc.age, tc.interval)
	}
}

// TestMaxReadAge_AnObjectThatFailedBeforeItsFirstSyncGetsNoCreationWindow: a
// retry, an edit or a force-sync of an object whose first sync failed may be
// its user waiting for a value fixed or rotated since; it reads as a first
// sync would have read within seconds, never a value up to 5 minutes old.
func TestMaxReadAge_AnObjectThatFailedBeforeItsFirstSyncGetsNoCreationWindow(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	es := newES("ns", "a", "s")
	es.CreationTimestamp = metav1.NewTime(now.Add(-3 * time.Minute))
	es.Spec.RefreshInterval = &metav1.Duration{Duration: 10 * time.Second}
	meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonPropertyNotFound})
	NewWithT(t).Expect(maxReadAge(syncFirst, es, now)).To(Equal(10 * time.Second))
}
