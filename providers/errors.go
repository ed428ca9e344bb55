package providers

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that decide behaviour. Implementations wrap them with %w and a
// message that names the store and path, never a value; callers test them with
// errors.Is.
var (
	// ErrNotFound means the server answered that nothing exists at the exact path
	// (or version). It alone may trigger a target's deletionPolicy.
	ErrNotFound = errors.New("remote secret not found")
	// ErrPropertyNotFound means the secret exists but has no such property.
	ErrPropertyNotFound = errors.New("property not found")
	// ErrAuth means login failed or the auth material is missing or invalid.
	ErrAuth = errors.New("authentication failed")
	// ErrPermissionDenied means the token is valid but its policy forbids the request.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrUnavailable means the server could not be reached or answered with a
	// server-side error; retrying later may succeed.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrNotOwned means a remote secret exists that baosync did not create, so
	// it will neither overwrite nor delete it.
	ErrNotOwned = errors.New("remote secret not created by baosync")
	// ErrInvalidConfig means the store's configuration cannot be used as it is.
	ErrInvalidConfig = errors.New("invalid store configuration")
)

// More sentinels, for what a tenant's object asks and the operator refuses.
var (
	// ErrInvalidRef means an object's reference (a remote key, a find path)
	// cannot be used as written, for example because it leaves the store's KV
	// mounts. The object's spec must change; the store is fine.
	ErrInvalidRef = errors.New("invalid remote reference")
	// ErrLeaseGone means a lease can no longer be renewed (revoked, expired or
	// at its max TTL): the caller issues a new credential.
	ErrLeaseGone = errors.New("lease cannot be renewed")
	// ErrThrottled means a namespace used up its share of a store's request
	// budget; a ThrottledError says when to try again.
	ErrThrottled = errors.New("request budget of the namespace used up")
)

// ThrottledError is ErrThrottled with the delay after which a request would
// be admitted again.
type ThrottledError struct {
	// Store names the store, Namespace the namespace whose request waits.
	Store, Namespace string
	// After is how long to wait before the next request.
	After time.Duration
	// StoreWide: the store's whole budget ran out, which every namespace
	// shares, not the namespace's own share.
	StoreWide bool
}

func (e *ThrottledError) Error() string {
	if e.StoreWide {
		return fmt.Sprintf("store %s: the store's request budget is used up; retrying in %s", e.Store, e.After.Round(time.Millisecond))
	}
	return fmt.Sprintf("store %s: namespace %q used up its share of the store's request budget; retrying in %s",
		e.Store, e.Namespace, e.After.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }
