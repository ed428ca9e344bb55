package externalsecret

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/syncbudget"
	"github.com/baosync/baosync/providers"
)

// readyOf returns the Ready condition, failing the test when there is none.
func readyOf(g Gomega, es *v1alpha1.ExternalSecret) metav1.Condition {
	c := meta.FindStatusCondition(es.Status.Conditions, v1alpha1.ConditionReady)
	g.Expect(c).NotTo(BeNil(), "no Ready condition")
	return *c
}

// syncCalls reads the ExternalSecret sync counter for a Reason.
func syncCalls(g Gomega, r *Reconciler, reason string) float64 {
	reg := prometheus.NewPedanticRegistry()
	g.Expect(reg.Register(r.Metrics.SyncCalls)).To(Succeed())
	families, err := reg.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// drain returns the events recorded so far.
func drain(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// TestFail_RecordsTheReasonAndLeavesTheRestOfTheStatus is the table of fail:
// the Ready condition, the event (only when the state changes), the metric and
// what a failure must not touch.
func TestFail_RecordsTheReasonAndLeavesTheRestOfTheStatus(t *testing.T) {
	synced := metav1.NewTime(unitNow.Add(-time.Hour))
	cases := []struct {
		name   string
		before *metav1.Condition // Ready before the failure
		err    error
		reason string
		event  bool
	}{
		{name: "a classified error gives its Reason", err: outcome.Terminalf(v1alpha1.ReasonTargetConflict, "Secret %q is someone else's", "app"),
			reason: v1alpha1.ReasonTargetConflict, event: true},
		{name: "an unclassified error is ProviderUnavailable", err: errors.New("connection reset"),
			reason: v1alpha1.ReasonProviderUnavailable, event: true},
		{name: "a wrapped classified error keeps its Reason", err: errors.Join(errors.New("context"), outcome.Waitingf(v1alpha1.ReasonRemoteNotFound, 0, "gone")),
			reason: v1alpha1.ReasonRemoteNotFound, event: true},
		{name: "a synced object turning False is announced", before: &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced},
			err: outcome.Waitingf(v1alpha1.ReasonStoreNotReady, 0, "store not ready"), reason: v1alpha1.ReasonStoreNotReady, event: true},
		{name: "the same failure again is not announced again", before: &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonStoreNotReady},
			err: outcome.Waitingf(v1alpha1.ReasonStoreNotReady, 0, "store not ready"), reason: v1alpha1.ReasonStoreNotReady},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, rec := unitReconciler(t)
			es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
			es.Status.RefreshTime, es.Status.SyncedResourceVersion = synced, "1-abc"
			if tc.before != nil {
				meta.SetStatusCondition(&es.Status.Conditions, *tc.before)
			}
			r.memo.remember(client.ObjectKeyFromObject(es), es.UID, "1-abc", unitNow, time.Time{})

			_ = r.fail(context.Background(), es, tc.err)

			c := readyOf(g, es)
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(tc.reason))
			g.Expect(c.Message).To(HavePrefix(`SecretStore "vault": `), "the message names the store")
			g.Expect(c.ObservedGeneration).To(Equal(es.Generation))
			g.Expect(es.Status.RefreshTime).To(Equal(synced), "a failure is no refresh")
			g.Expect(es.Status.SyncedResourceVersion).To(Equal("1-abc"))
			_, remembered := r.memo.recall(client.ObjectKeyFromObject(es), es.UID)
			g.Expect(remembered).To(BeFalse(), "a failed object is synced again, not scheduled from memory")
			g.Expect(syncCalls(g, r, tc.reason)).To(Equal(1.0))
			evs := drain(rec)
			if !tc.event {
				g.Expect(evs).To(BeEmpty())
				return
			}
			g.Expect(evs).To(ConsistOf(And(HavePrefix("Warning "+tc.reason), ContainSubstring(c.Message))))
		})
	}
}

// TestSucceed_RecordsTheSyncAndSchedulesTheNextOne is the table of succeed:
// the condition and its message, refreshTime (kept on a quiet periodic
// refresh), the binding, the update event and the next refresh.
func TestSucceed_RecordsTheSyncAndSchedulesTheNextOne(t *testing.T) {
	earlier := metav1.NewTime(unitNow.Add(-time.Hour))
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced, Message: "old"}
	cases := []struct {
		name        string
		ready       bool // Ready=True before
		wrote       bool
		cause       syncCause
		always      bool // --refresh-status=Always
		change      func(*v1alpha1.ExternalSecret)
		message     string
		refreshTime metav1.Time
		events      []string // event prefixes
		requeue     time.Duration
		binding     string
	}{
		{name: "a first sync records the time and is announced once", cause: syncFirst, wrote: true,
			message: `Secret "app" is in sync with SecretStore "vault"`, refreshTime: metav1.NewTime(unitNow),
			events: []string{"Normal SecretSynced"}, requeue: time.Minute, binding: "app"},
		{name: "new values for a ready object are announced as an update", ready: true, cause: syncPeriodic, wrote: true,
			refreshTime: metav1.NewTime(unitNow), events: []string{`Normal SecretSynced Secret "app" updated with new values`}, requeue: time.Minute, binding: "app"},
		{name: "a quiet periodic refresh keeps the status as it was", ready: true, cause: syncPeriodic,
			refreshTime: earlier, requeue: time.Minute, binding: "app"},
		{name: "with --refresh-status=Always a quiet refresh records the time", ready: true, cause: syncPeriodic, always: true,
			refreshTime: metav1.NewTime(unitNow), requeue: time.Minute, binding: "app"},
		{name: "a changed spec records the time even without a write", ready: true, cause: syncChanged,
			refreshTime: metav1.NewTime(unitNow), requeue: time.Minute, binding: "app"},
		{name: "creationPolicy None binds no Secret and says so", cause: syncFirst,
			change:  func(es *v1alpha1.ExternalSecret) { es.Spec.Target.CreationPolicy = v1alpha1.CreationPolicyNone },
			message: `Values read from SecretStore "vault"; creationPolicy None writes no Secret`, refreshTime: metav1.NewTime(unitNow),
			events: []string{"Normal SecretSynced"}, requeue: time.Minute},
		{name: "refreshPolicy OnChange schedules no refresh", cause: syncFirst,
			change:      func(es *v1alpha1.ExternalSecret) { es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyOnChange },
			refreshTime: metav1.NewTime(unitNow), events: []string{"Normal SecretSynced"}, binding: "app"},
		{name: "refreshPolicy CreatedOnce schedules no refresh", cause: syncFirst,
			change:      func(es *v1alpha1.ExternalSecret) { es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyCreatedOnce },
			refreshTime: metav1.NewTime(unitNow), events: []string{"Normal SecretSynced"}, binding: "app"},
		{name: "refreshInterval 0 schedules no refresh", cause: syncFirst,
			change:      func(es *v1alpha1.ExternalSecret) { es.Spec.RefreshInterval = &metav1.Duration{} },
			refreshTime: metav1.NewTime(unitNow), events: []string{"Normal SecretSynced"}, binding: "app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, rec := unitReconciler(t)
			r.RefreshStatusAlways = tc.always
			es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
			es.Status.RefreshTime = earlier
			if tc.ready {
				meta.SetStatusCondition(&es.Status.Conditions, ready)
				es.Status.Binding.Name = "app"
			}
			if tc.change != nil {
				tc.change(es)
			}

			res := r.succeed(es, tc.wrote, tc.cause)

			g.Expect(res.Err).NotTo(HaveOccurred())
			c := readyOf(g, es)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonSecretSynced))
			if tc.message != "" {
				g.Expect(c.Message).To(Equal(tc.message))
			}
			g.Expect(es.Status.RefreshTime.Time).To(BeTemporally("==", tc.refreshTime.Time))
			g.Expect(es.Status.SyncedResourceVersion).To(Equal(resourceVersionOf(es)))
			g.Expect(es.Status.Binding.Name).To(Equal(tc.binding))
			_, remembered := r.memo.recall(client.ObjectKeyFromObject(es), es.UID)
			g.Expect(remembered).To(BeTrue(), "the next refresh is scheduled from memory")
			g.Expect(syncCalls(g, r, v1alpha1.ReasonSecretSynced)).To(Equal(1.0))
			evs := drain(rec)
			g.Expect(evs).To(HaveLen(len(tc.events)), "%q", evs)
			for i, prefix := range tc.events {
				g.Expect(evs[i]).To(HavePrefix(prefix))
			}
			if tc.requeue == 0 {
				g.Expect(res.After).To(BeZero())
				return
			}
			g.Expect(res.After).To(BeNumerically(">=", tc.requeue), "jitter only delays")
			g.Expect(res.After).To(BeNumerically("<=", tc.requeue+tc.requeue/10))
		})
	}
}

// TestFail_ATerminalFailureStillWakesTheObjectForItsLease: a terminal error is
// not retried until the object changes, except that an ExternalSecret holding
// a lease is woken when the lease is due, so it is renewed (or a retired one
// revoked) while the user fixes the failing entry.
func TestFail_ATerminalFailureStillWakesTheObjectForItsLease(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lease     bool
		class     outcome.Class
		wantAfter time.Duration
	}{
		{name: "without a lease it stays terminal", class: outcome.Terminal},
		{name: "with a lease it waits until the lease is due", lease: true, class: outcome.Waiting, wantAfter: 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, _ := unitReconciler(t)
			es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
			if tc.lease {
				due := metav1.NewTime(unitNow.Add(10 * time.Minute))
				es.Status.Generated = []v1alpha1.GeneratedStatus{{Kind: "VaultDynamicSecret", Name: "db", LeaseID: "l", NextRenewalTime: &due}}
			}
			res := r.fail(context.Background(), es, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "bad key"))
			oe := outcome.As(res.Err, "")
			g.Expect(oe.Class).To(Equal(tc.class))
			g.Expect(oe.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(oe.After).To(Equal(tc.wantAfter))
		})
	}
}

// TestSucceed_ABulkFirstSyncIsNotAnnouncedObjectByObject: issue 26's event
// policy. Past firstSyncEventBurst first syncs at once, a first sync sets
// Ready=True (what kubectl shows) without an event, which would cost the API
// server as much as the Secret. What users still get: an event for the first
// syncs of a few objects, for every failure and recovery (a change of Ready),
// and for every later change of the Secret's values.
func TestSucceed_ABulkFirstSyncIsNotAnnouncedObjectByObject(t *testing.T) {
	g := NewWithT(t)
	r, rec := unitReconciler(t)
	rec.Events = make(chan string, 1000)
	const n = firstSyncEventBurst + 50
	for i := range n {
		es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
		es.Name = fmt.Sprint("app-", i)
		g.Expect(r.succeed(es, true, syncFirst).Err).NotTo(HaveOccurred())
		g.Expect(readyOf(g, es).Reason).To(Equal(v1alpha1.ReasonSecretSynced), "every object is Ready, announced or not")
	}
	announced := len(drain(rec))
	g.Expect(announced).To(BeNumerically(">=", firstSyncEventBurst))
	g.Expect(announced).To(BeNumerically("<", n), "a bulk first sync posted an event per object")

	recovered := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	meta.SetStatusCondition(&recovered.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonProviderUnavailable})
	_ = r.succeed(recovered, false, syncRetry)
	g.Expect(drain(rec)).To(ConsistOf(HavePrefix("Normal SecretSynced")), "a recovery is always announced")
}

func TestRefreshCanWait_OnlyAPeriodicRefreshOfAnObjectInSyncWaitsForTheBudget(t *testing.T) {
	throttled := fmt.Errorf("data[0]: %w", &providers.ThrottledError{Store: "ClusterSecretStore//vault", Namespace: "ns", After: time.Second})
	ownShare := &desired.Result{ThrottledOnly: true}
	readyES := func(change func(*v1alpha1.ExternalSecret)) *v1alpha1.ExternalSecret {
		es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
		meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
			Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced})
		if change != nil {
			change(es)
		}
		return es
	}
	cases := []struct {
		name  string
		cause syncCause
		es    *v1alpha1.ExternalSecret
		built *desired.Result
		err   error
		want  bool
	}{
		{"a periodic refresh of an object in sync, waiting for the budget", syncPeriodic, readyES(nil), ownShare, throttled, true},
		{"a failure beside the wait", syncPeriodic, readyES(nil), &desired.Result{}, throttled, false},
		{"a first sync: someone waits for it", syncFirst, unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain), ownShare, throttled, false},
		{"a change of the object", syncChanged, readyES(nil), ownShare, throttled, false},
		{"a change of the remote path", syncRemote, readyES(nil), ownShare, throttled, false},
		{"a repair of the Secret", syncRepair, readyES(nil), ownShare, throttled, false},
		{"a lease", syncLease, readyES(nil), ownShare, throttled, false},
		{"an object that is not Ready", syncPeriodic, readyES(func(es *v1alpha1.ExternalSecret) {
			meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
				Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonProviderUnavailable})
		}), ownShare, throttled, false},
		{"an object with a generator, whose build may have rotated a value", syncPeriodic, readyES(func(es *v1alpha1.ExternalSecret) {
			es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{
				GeneratorRef: &v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}}}}
		}), ownShare, throttled, false},
		{"an object holding generated state", syncPeriodic, readyES(func(es *v1alpha1.ExternalSecret) {
			es.Status.Generated = []v1alpha1.GeneratedStatus{{Kind: "VaultDynamicSecret", Name: "db"}}
		}), ownShare, throttled, false},
		{"no failure", syncPeriodic, readyES(nil), ownShare, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := unitReconciler(t)
			if got := r.refreshCanWait(c.cause, c.es, c.built, c.err); got != c.want {
				t.Fatalf("refreshCanWait = %v, want %v", got, c.want)
			}
		})
	}
}

func TestRefreshCanWait_AtMostFiveMinutesThenTheWaitShows(t *testing.T) {
	r, _ := unitReconciler(t)
	clock := r.Clock.(*clocktesting.FakeClock)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced})
	throttled := &providers.ThrottledError{Store: "s", Namespace: "ns", After: time.Second}
	built := &desired.Result{ThrottledOnly: true}
	// waitsFor defers the refresh every 30 s for d, and reports whether the
	// wait after that is deferred too.
	waitsFor := func(d time.Duration) bool {
		for elapsed := time.Duration(0); elapsed < d; elapsed += 30 * time.Second {
			if !r.refreshCanWait(syncPeriodic, es, built, throttled) {
				t.Fatalf("a wait %s into the run was not deferred", elapsed)
			}
			clock.Step(30 * time.Second)
		}
		return r.refreshCanWait(syncPeriodic, es, built, throttled)
	}
	if waitsFor(maxRefreshDeferral) {
		t.Fatal("after five minutes of waiting, the wait must show as Ready=False, Throttled")
	}
	r.memo.remember(client.ObjectKeyFromObject(es), es.UID, "1", clock.Now(), time.Time{})
	if !waitsFor(time.Minute) {
		t.Fatal("a sync starts the clock again")
	}
	clock.Step(deferralGap + time.Second) // held by a sync window, say
	if !waitsFor(time.Minute) {
		t.Fatal("a wait after a pause starts the clock again")
	}
}

// TestDeferRefresh_KeepsReadyAndWritesNothingAndTellsOnceAMinute: a burst
// of refreshes past the namespace's share of the store (a restart at scale)
// costs no status write and no event per object; the namespace is told once
// a minute.
func TestDeferRefresh_KeepsReadyAndWritesNothingAndTellsOnceAMinute(t *testing.T) {
	g := NewWithT(t)
	r, rec := unitReconciler(t)
	r.SyncBudget = syncbudget.New(50, 100)
	throttled := &providers.ThrottledError{Store: "ClusterSecretStore//vault", Namespace: "ns", After: 1500 * time.Millisecond}
	for i := range 10 {
		es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
		es.Name = fmt.Sprint("app-", i)
		meta.SetStatusCondition(&es.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
			Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSecretSynced, Message: "in sync"})
		before := es.DeepCopy()
		res := r.deferRefresh(es, throttled)
		g.Expect(es.Status).To(Equal(before.Status), "the status is left as it was: nothing to write")
		oe := outcome.As(res.Err, "")
		g.Expect(oe.Reason).To(Equal(v1alpha1.ReasonThrottled))
		g.Expect(oe.Class).To(Equal(outcome.Waiting))
		g.Expect(oe.After).To(Equal(1500 * time.Millisecond))
	}
	g.Expect(drain(rec)).To(ConsistOf(And(HavePrefix("Warning Throttled"), ContainSubstring("wait for the store's request budget"))),
		"one event for the namespace, not one per object")
	g.Expect(syncCalls(g, r, v1alpha1.ReasonThrottled)).To(BeNumerically("==", 10))
}
