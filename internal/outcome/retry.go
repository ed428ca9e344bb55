package outcome

import (
	"cmp"
	"context"
	"math/rand/v2"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Retry bounds. Back-off starts at a second, not controller-runtime's 5 ms: a
// failed request to OpenBao or the API server is not worth ten more within the
// next five seconds (nor ten more log lines). It doubles up to about 16
// minutes, as controller-runtime's does. A waiting failure sleeps at most
// MaxWait.
const (
	BackoffBase = time.Second
	BackoffMax  = 1000 * time.Second
	MaxWait     = 5 * time.Minute
)

// Result is what one pass of a reconciler wrapped by Retrying came to. It
// takes the place of controller-runtime's (Result, error) pair, whose two
// halves mean something else here: the error is never handed on, and the
// delay is also the wait of a failure.
type Result struct {
	// Err is the failure, classified with As; nil for a pass that succeeded.
	Err error
	// After is when to look again without a change: after a success, the
	// next refresh (0: only when something changes); after a Waiting failure
	// whose error has no After of its own, the wait.
	After time.Duration
}

// Next is a pass that succeeded and looks again after d (0: only when
// something changes).
func Next(d time.Duration) Result { return Result{After: d} }

// Failed is a pass that failed with err; fallback is the wait of a Waiting
// failure without its own After (0: MaxWait). A nil err makes it a pass that
// succeeded and looks again after fallback, as Next.
func Failed(err error, fallback time.Duration) Result { return Result{Err: err, After: fallback} }

// Reconciler is a reconciler that Retrying wraps: one pass over one object,
// telling what it came to.
type Reconciler interface {
	Reconcile(ctx context.Context, req reconcile.Request) Result
}

// Retrying wraps a reconciler: whatever error it returns is classified (As)
// and mapped here, for every kind, to what controller-runtime is told, with
// one log line named what ("Failed to sync ExternalSecret"), and counted in
// baosync_reconcile_failures_total under controller (its name in
// controller-runtime's metrics).
//
// Terminal: no retry until the object changes. Waiting: the error's After,
// else the Result's, else MaxWait, at most MaxWait, jittered. Refused and
// Transient: per-object exponential back-off from BackoffBase, reset by the
// next reconcile that does not fail. Every class returns a nil error, so that
// controller-runtime does not log the failure a second time, at error level
// and with a stack trace; its own error counters therefore stay at 0, and the
// failure counter above takes their place.
func Retrying(controller, what string, inner Reconciler) reconcile.Reconciler {
	return &retrier{inner: inner, what: what, controller: controller,
		backoff: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](BackoffBase, BackoffMax)}
}

type retrier struct {
	inner      Reconciler
	what       string
	controller string
	backoff    workqueue.TypedRateLimiter[reconcile.Request]
}

// Reconcile runs the inner reconciler and maps its failure.
func (r *retrier) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	res := r.inner.Reconcile(ctx, req)
	if res.Err == nil {
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: res.After}, nil
	}
	oe := As(res.Err, "")
	Log(ctrl.LoggerFrom(ctx), oe, r.what)
	failures.WithLabelValues(r.controller, oe.Class.String(), cmp.Or(oe.Reason, "Unclassified")).Inc()
	switch oe.Class {
	case Terminal:
		r.backoff.Forget(req)
		return ctrl.Result{}, nil
	case Waiting:
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: Wait(oe.After, res.After)}, nil
	}
	return ctrl.Result{RequeueAfter: r.backoff.When(req)}, nil
}

// failures counts the failures Retrying maps, by controller, class and
// Reason (both from fixed sets), in controller-runtime's registry next to
// its own reconcile metrics.
var failures = func() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baosync_reconcile_failures_total",
		Help: "Failed reconciles by controller, failure class (Terminal, Waiting, Refused, Transient) and condition Reason.",
	}, []string{"controller", "class", "reason"})
	ctrlmetrics.Registry.MustRegister(c)
	return c
}()

// Wait is the delay of a Waiting error: its own after, else fallback, else
// MaxWait; never more than MaxWait; jittered.
func Wait(after, fallback time.Duration) time.Duration {
	d := after
	if d <= 0 {
		d = fallback
	}
	if d <= 0 || d > MaxWait {
		d = MaxWait
	}
	return Jitter(d)
}

// Log writes the one line of a failure at the level its class deserves: an
// expected condition (a terminal configuration error, a wait for data or a
// store, throttling, a refusal configuration explains) is information with
// its Reason, since the condition and the event already tell the user; only
// a Transient error is logged as an error. The line carries all of err (a
// failed step and a failed status write, say), the Reason its most urgent part.
func Log(log logr.Logger, err error, what string) {
	oe := As(err, "")
	if oe.Class == Transient {
		log.Error(err, what, "reason", oe.Reason)
		return
	}
	log.Info(what, "reason", oe.Reason, "error", err.Error())
}

// Jitter spreads d by up to +10%, so that objects with the same interval do not
// fire together.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1)) //nolint:gosec // G404: spreads timers, guards no secret
}
