// Package outcome classifies reconcile errors and decides, in one place for
// every reconciler, what follows from them. Each error carries the Reason a
// user sees in the Ready condition and a class: terminal (no retry until the
// object changes), waiting (a fixed delay, the error's own or the caller's),
// refused (back-off, an expected refusal) or transient (back-off, unexpected).
// Retrying wraps a reconciler so that each failure is logged once, at the level
// its class deserves, and controller-runtime never logs it a second time.
package outcome

import (
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// Class says how a failed reconcile is retried and logged.
type Class int

const (
	// Transient errors are unexpected (a server down, an unclassified error):
	// retried with back-off and logged as errors.
	Transient Class = iota
	// Terminal errors are configuration errors: no retry until the object changes.
	Terminal
	// Waiting errors requeue after a fixed, jittered delay (a store not yet ready,
	// a remote secret not yet written, a namespace's request budget used up).
	Waiting
	// Refused errors are refusals that configuration explains (a login or a read
	// the server refuses, a write the Kubernetes API refuses, a lost update
	// race): retried with back-off like Transient, logged as information.
	Refused
)

// String names the class, as the failure counter's label does.
func (c Class) String() string {
	switch c {
	case Terminal:
		return "Terminal"
	case Waiting:
		return "Waiting"
	case Refused:
		return "Refused"
	}
	return "Transient"
}

// urgency orders classes when one reconcile failed in several ways (a step and
// then the status write): the failure that needs the soonest retry decides.
func (c Class) urgency() int {
	switch c {
	case Transient:
		return 3
	case Refused:
		return 2
	case Waiting:
		return 1
	}
	return 0
}

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

// Refusedf returns a Refused error with a formatted message.
func Refusedf(reason, format string, args ...any) error {
	return &Error{Reason: reason, Class: Refused, Err: fmt.Errorf(format, args...)}
}

// As returns the classified error err carries. When err joins several (a
// failed step and a failed status write), the most urgent class wins. An error
// from the Kubernetes API server is classified by FromKube; anything else
// unclassified is Transient with fallbackReason.
func As(err error, fallbackReason string) *Error {
	if oe := mostUrgent(err); oe != nil {
		return oe
	}
	if isKube(err) {
		return kubeError(err)
	}
	return &Error{Reason: fallbackReason, Class: Transient, Err: err}
}

// mostUrgent walks err's tree down to the first *Error on each branch and
// returns the most urgent one, or nil.
func mostUrgent(err error) *Error {
	// A deliberate type switch: errors.As would stop at the first *Error of a
	// joined error, and this walk must compare every branch.
	switch e := err.(type) { //nolint:errorlint // see above
	case nil:
		return nil
	case *Error:
		return e
	case interface{ Unwrap() []error }:
		var worst *Error
		for _, part := range e.Unwrap() {
			if oe := mostUrgent(part); oe != nil && (worst == nil || oe.Class.urgency() > worst.Class.urgency()) {
				worst = oe
			}
		}
		return worst
	case interface{ Unwrap() error }:
		return mostUrgent(e.Unwrap())
	}
	return nil
}

// FromProvider classifies an error of a providers.SecretsClient. Missing remote
// data and throttling wait, bad configuration waits for a change of the
// object or store, a refused login or read backs off quietly, and everything
// else backs off as an error.
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
		return &Error{Reason: v1alpha1.ReasonAuthFailed, Class: Refused, Err: err}
	case errors.Is(err, providers.ErrPermissionDenied):
		return &Error{Reason: v1alpha1.ReasonPermissionDenied, Class: Refused, Err: err}
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

// FromKube classifies a failed request to the Kubernetes API server; what
// names it (`create Secret "db"`). The Reason is KubernetesAPIError, which
// sends the user to RBAC, admission webhooks and quotas rather than to
// OpenBao. A refusal (forbidden, invalid, too large, a conflict) backs off
// quietly; a failure of the API server itself (timeouts, 5xx, 429, no
// connection) backs off as an error.
func FromKube(what string, err error) error {
	if err == nil {
		return nil
	}
	return kubeError(fmt.Errorf("%s: %w", what, err))
}

// kubeError classifies err, which came from the Kubernetes API.
func kubeError(err error) *Error {
	class := Transient
	switch {
	case apierrors.IsForbidden(err), apierrors.IsInvalid(err), apierrors.IsBadRequest(err),
		apierrors.IsRequestEntityTooLargeError(err), apierrors.IsUnauthorized(err), apierrors.IsConflict(err),
		apierrors.IsAlreadyExists(err), apierrors.IsNotFound(err), apierrors.IsGone(err),
		apierrors.IsMethodNotSupported(err), apierrors.IsNotAcceptable(err), apierrors.IsUnsupportedMediaType(err):
		class = Refused
	}
	return &Error{Reason: v1alpha1.ReasonKubernetesAPIError, Class: class, Err: err}
}

// isKube reports whether err carries an answer of the Kubernetes API server.
func isKube(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}

// Within prefixes err's message with where it happened ("dataTo[0]: ..."),
// keeping its Reason and class: wrapping with fmt.Errorf would not, as As
// returns the inner *Error and its own message.
func Within(where string, err error) error {
	oe := mostUrgent(err)
	if oe == nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return &Error{Reason: oe.Reason, Class: oe.Class, After: oe.After, Err: fmt.Errorf("%s: %w", where, oe.Err)}
}
