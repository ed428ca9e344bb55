// Package outcome classifies reconcile errors: each carries the Reason a user
// sees in the Ready condition and whether the reconciler retries (terminal,
// transient with back-off, or waiting a fixed delay). One failure path per
// reconciler reads it.
package outcome

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// Class says how a failed reconcile is retried.
type Class int

const (
	// Transient errors are returned to controller-runtime, which backs off.
	Transient Class = iota
	// Terminal errors are configuration errors: no retry until the object changes.
	Terminal
	// Waiting errors requeue after a fixed, jittered delay (a store not yet ready,
	// a remote secret not yet written).
	Waiting
)

// Error is a reconcile error with its Reason and retry class.
type Error struct {
	Reason string
	Class  Class
	// After is the requeue delay of a Waiting error; zero uses the caller's default.
	After time.Duration
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Terminalf returns a Terminal error with a formatted message.
func Terminalf(reason, format string, args ...any) error {
	return &Error{Reason: reason, Class: Terminal, Err: fmt.Errorf(format, args...)}
}

// Waitingf returns a Waiting error with a formatted message.
func Waitingf(reason string, after time.Duration, format string, args ...any) error {
	return &Error{Reason: reason, Class: Waiting, After: after, Err: fmt.Errorf(format, args...)}
}

// Transientf returns a Transient error with a formatted message.
func Transientf(reason, format string, args ...any) error {
	return &Error{Reason: reason, Class: Transient, Err: fmt.Errorf(format, args...)}
}

// As returns err as an *Error; an unclassified error is Transient with reason.
func As(err error, fallbackReason string) *Error {
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return &Error{Reason: fallbackReason, Class: Transient, Err: err}
}

// FromProvider classifies an error of a providers.SecretsClient. Missing remote
// data waits for the next refresh; bad configuration waits for a change of the
// store; everything else backs off.
func FromProvider(err error) error {
	var oe *Error
	if errors.As(err, &oe) {
		return err
	}
	switch {
	case errors.Is(err, providers.ErrNotFound):
		return &Error{Reason: v1alpha1.ReasonRemoteNotFound, Class: Waiting, Err: err}
	case errors.Is(err, providers.ErrPropertyNotFound):
		return &Error{Reason: v1alpha1.ReasonPropertyNotFound, Class: Waiting, Err: err}
	case errors.Is(err, providers.ErrAuth):
		return &Error{Reason: v1alpha1.ReasonAuthFailed, Class: Transient, Err: err}
	case errors.Is(err, providers.ErrPermissionDenied):
		return &Error{Reason: v1alpha1.ReasonPermissionDenied, Class: Transient, Err: err}
	case errors.Is(err, providers.ErrInvalidRef):
		return &Error{Reason: v1alpha1.ReasonInvalidSpec, Class: Terminal, Err: err}
	case errors.Is(err, providers.ErrThrottled):
		var te *providers.ThrottledError
		after := time.Duration(0)
		if errors.As(err, &te) {
			after = te.After
		}
		return &Error{Reason: v1alpha1.ReasonThrottled, Class: Waiting, After: after, Err: err}
	case errors.Is(err, providers.ErrInvalidConfig):
		return &Error{Reason: v1alpha1.ReasonInvalidStoreConfig, Class: Terminal, Err: err}
	default:
		return &Error{Reason: v1alpha1.ReasonProviderUnavailable, Class: Transient, Err: err}
	}
}

// Result is what a reconcile returns for a failure: a terminal error stops
// retries until the object changes, a waiting one requeues after wait, and
// anything else goes back to controller-runtime, which backs off.
func Result(err error, wait time.Duration) (ctrl.Result, error) {
	switch As(err, "").Class {
	case Terminal:
		return ctrl.Result{}, reconcile.TerminalError(err)
	case Waiting:
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	return ctrl.Result{}, err
}

// Log writes the one line of a failure at the level its class deserves: an
// expected condition (a terminal configuration error, a wait for data or a
// store, throttling) is information with its Reason, since the condition and
// the event already tell the user; only a transient error is logged as an
// error.
func Log(log logr.Logger, err error, what string) {
	oe := As(err, "")
	if oe.Class == Transient {
		log.Error(oe.Err, what, "reason", oe.Reason)
		return
	}
	log.Info(what, "reason", oe.Reason, "error", oe.Err.Error())
}

// Jitter spreads d by up to +10%, so that objects with the same interval do not
// fire together.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}
