package providers

import "errors"

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
