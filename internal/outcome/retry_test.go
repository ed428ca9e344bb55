package outcome

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	dto "github.com/prometheus/client_model/go"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// returns is a reconciler that returns what it is given.
type returns struct {
	after time.Duration
	err   error
}

func (r *returns) Reconcile(context.Context, reconcile.Request) Result {
	return Result{Err: r.err, After: r.after}
}

// capture collects log lines, each "info" or "error" and its text.
type capture struct{ lines []string }

func (c *capture) logger() logr.Logger {
	return funcr.NewJSON(func(obj string) {
		level := "info"
		if strings.Contains(obj, `"error"`) && !strings.Contains(obj, `"level"`) {
			level = "error" // funcr writes "level" on info lines only
		}
		c.lines = append(c.lines, level+" "+obj)
	}, funcr.Options{})
}

func TestRetrying_MapsEveryClassAndNeverReturnsTheError(t *testing.T) {
	cases := []struct {
		name     string
		after    time.Duration // the inner reconciler's
		err      error
		min, max time.Duration // the requeue delay
		level    string        // of the one log line; "" for none
	}{
		{"success keeps the reconciler's result", time.Hour, nil, time.Hour, time.Hour, ""},
		{"a terminal error waits for a change of the object", time.Hour, Terminalf(v1alpha1.ReasonInvalidSpec, "bad key"), 0, 0, "info"},
		{"a store not ready waits its own 30 s, not the refresh interval", time.Hour,
			Waitingf(v1alpha1.ReasonStoreNotReady, 30*time.Second, "not ready"), 30 * time.Second, 33 * time.Second, "info"},
		{"throttling waits as long as the share says", time.Hour,
			FromProvider(&providers.ThrottledError{After: 2 * time.Second}), 2 * time.Second, 2200 * time.Millisecond, "info"},
		{"a wait without its own delay uses the reconciler's", time.Minute,
			Waitingf(v1alpha1.ReasonRemoteNotFound, 0, "gone"), time.Minute, 66 * time.Second, "info"},
		{"no wait is longer than MaxWait", 24 * time.Hour,
			Waitingf(v1alpha1.ReasonRemoteNotFound, 0, "gone"), MaxWait, MaxWait + MaxWait/10, "info"},
		{"a refused login backs off quietly", 0, FromProvider(providers.ErrAuth), BackoffBase, BackoffBase, "info"},
		{"an unreachable server backs off as an error", 0, FromProvider(providers.ErrUnavailable), BackoffBase, BackoffBase, "error"},
		{"an unclassified error backs off as an error", 0, errors.New("boom"), BackoffBase, BackoffBase, "error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log capture
			r := Retrying("test", "Failed", &returns{after: tc.after, err: tc.err})
			res, err := r.Reconcile(ctrl.LoggerInto(context.Background(), log.logger()), reconcile.Request{})
			if err != nil {
				t.Fatalf("returned %v: controller-runtime would log it a second time", err)
			}
			if res.RequeueAfter < tc.min || res.RequeueAfter > tc.max {
				t.Fatalf("requeue after %v, want %v..%v", res.RequeueAfter, tc.min, tc.max)
			}
			switch {
			case tc.level == "" && len(log.lines) != 0:
				t.Fatalf("logged %q for a success", log.lines)
			case tc.level != "" && (len(log.lines) != 1 || !strings.HasPrefix(log.lines[0], tc.level+" ")):
				t.Fatalf("logged %q, want one %s line", log.lines, tc.level)
			}
		})
	}
}

func TestRetrying_BacksOffPerObjectUntilAReconcileSucceeds(t *testing.T) {
	inner := &returns{err: FromProvider(providers.ErrUnavailable)}
	r := Retrying("test", "Failed", inner)
	ctx := ctrl.LoggerInto(context.Background(), logr.Discard())
	a, b := reconcile.Request{}, reconcile.Request{}
	b.Name = "other"
	var delays []time.Duration
	for range 3 {
		res, _ := r.Reconcile(ctx, a)
		delays = append(delays, res.RequeueAfter)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !equal(delays, want) {
		t.Fatalf("back-off %v, want %v", delays, want)
	}
	if res, _ := r.Reconcile(ctx, b); res.RequeueAfter != BackoffBase {
		t.Fatalf("another object starts at %v, want %v", res.RequeueAfter, BackoffBase)
	}
	inner.err = nil
	_, _ = r.Reconcile(ctx, a)
	inner.err = FromProvider(providers.ErrUnavailable)
	if res, _ := r.Reconcile(ctx, a); res.RequeueAfter != BackoffBase {
		t.Fatalf("after a success the back-off starts over at %v, got %v", BackoffBase, res.RequeueAfter)
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLog_OnlyTransientFailuresAreErrors(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		wantError bool
	}{
		{"a terminal configuration error is information", Terminalf(v1alpha1.ReasonInvalidSpec, "bad key"), false},
		{"a wait is information", Waitingf(v1alpha1.ReasonRemoteNotFound, 0, "not yet"), false},
		{"throttling is information", FromProvider(&providers.ThrottledError{Store: "s", Namespace: "n", After: time.Second}), false},
		{"a refused login is information", FromProvider(providers.ErrAuth), false},
		{"an unreachable server is an error", FromProvider(providers.ErrUnavailable), true},
		{"an unclassified error is an error", errors.New("boom"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var line string
			log := funcr.NewJSON(func(obj string) { line = obj }, funcr.Options{})
			Log(log, tc.err, "Failed")
			// funcr writes "level" on info lines only.
			if isInfo := strings.Contains(line, `"level":0`); isInfo == tc.wantError {
				t.Fatalf("line %q: want an error line: %v", line, tc.wantError)
			}
			if want := As(tc.err, "").Reason; !strings.Contains(line, `"reason":"`+want+`"`) {
				t.Fatalf("line %q does not carry the Reason %q", line, want)
			}
		})
	}
}

func TestJitter_AddsAtMostATenth(t *testing.T) {
	for range 100 {
		if d := Jitter(time.Minute); d < time.Minute || d > 66*time.Second {
			t.Fatalf("Jitter(1m) = %v", d)
		}
	}
	if Jitter(0) != 0 {
		t.Fatal("Jitter(0) must stay 0")
	}
}

func TestRetrying_CountsEachFailureByControllerClassAndReason(t *testing.T) {
	ctx := ctrl.LoggerInto(context.Background(), logr.Discard())
	count := func() float64 {
		var m dto.Metric
		if err := failures.WithLabelValues("counted", "Terminal", v1alpha1.ReasonInvalidSpec).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	before := count()
	r := Retrying("counted", "Failed", &returns{err: Terminalf(v1alpha1.ReasonInvalidSpec, "bad key")})
	_, _ = r.Reconcile(ctx, reconcile.Request{})
	_, _ = r.Reconcile(ctx, reconcile.Request{})
	if got := count() - before; got != 2 {
		t.Fatalf("counted %v failures, want 2", got)
	}
	ok := Retrying("counted", "Failed", &returns{})
	_, _ = ok.Reconcile(ctx, reconcile.Request{})
	if got := count() - before; got != 2 {
		t.Fatalf("a success was counted as a failure: %v", got)
	}
}
