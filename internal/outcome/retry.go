package outcome

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
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

// Retrying wraps a reconciler: whatever error it returns is classified (As)
// and mapped here, for every kind, to what controller-runtime is told, with
// one log line named what ("Failed to sync ExternalSecret").
//
// The inner reconciler reports a failure by returning the error, and may set
// Result.RequeueAfter to the delay a Waiting error without its own After
// should use (its refresh interval, say). Terminal: no retry until the object
// changes. Waiting: the error's After, else the inner reconciler's delay, else
// MaxWait, at most MaxWait, jittered. Refused and Transient: per-object
// exponential back-off from BackoffBase, reset by the next reconcile that does
// not fail. Every class returns a nil error, so that controller-runtime does
// not log the failure a second time, at error level and with a stack trace.
func Retrying(what string, inner reconcile.Reconciler) reconcile.Reconciler {
	return &retrier{inner: inner, what: what,
		backoff: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](BackoffBase, BackoffMax)}
}

type retrier struct {
	inner   reconcile.Reconciler
	what    string
	backoff workqueue.TypedRateLimiter[reconcile.Request]
}

// Reconcile runs the inner reconciler and maps its failure.
func (r *retrier) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	res, err := r.inner.Reconcile(ctx, req)
	if err == nil {
		r.backoff.Forget(req)
		return res, nil
	}
	oe := As(err, "")
	Log(ctrl.LoggerFrom(ctx), oe, r.what)
	switch oe.Class {
	case Terminal:
		r.backoff.Forget(req)
		return ctrl.Result{}, nil
	case Waiting:
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: Wait(oe.After, res.RequeueAfter)}, nil
	}
	return ctrl.Result{RequeueAfter: r.backoff.When(req)}, nil
}

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
