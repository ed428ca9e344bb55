package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

// classify wraps err from an HTTP call to the server with the providers
// sentinel that decides what the caller does. The message names the operation
// and path and the server's own error text, bounded and cleaned by serverText
// (the transport has already redacted the request's token and body values from
// it, see guard); it never holds a request body.
func classify(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		sentinel := providers.ErrUnavailable
		switch {
		case re.StatusCode == http.StatusNotFound:
			sentinel = providers.ErrNotFound
		case re.StatusCode == http.StatusForbidden:
			sentinel = providers.ErrPermissionDenied
		case re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests:
			sentinel = providers.ErrInvalidConfig
		}
		if re.StatusCode == http.StatusBadGateway || re.StatusCode == http.StatusServiceUnavailable || re.StatusCode == http.StatusGatewayTimeout {
			return fmt.Errorf("%s %s: server answered %s: %w%w", op, path, answer(re), sentinel, errServerDown)
		}
		return fmt.Errorf("%s %s: server answered %s: %w", op, path, answer(re), sentinel)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s %s: %w", op, path, err)
	}
	return fmt.Errorf("%s %s: %w: %w", op, path, providers.ErrUnavailable, bounded{err})
}

// errServerDown marks an answer that shows the server itself down (502, 503,
// 504); its text is empty, as the answer's status already says it.
var errServerDown = errors.New("")

// bounded prints a transport error the way serverText prints a server's
// answer (Go quotes a malformed status line, up to 64 KiB of whatever the
// server sent, into its error), and keeps the error for errors.Is and As.
type bounded struct{ err error }

func (b bounded) Error() string { return serverText([]string{b.err.Error()}) }
func (b bounded) Unwrap() error { return b.err }

// loginError turns a failed login into ErrAuth unless the server was
// unreachable. loginPath is the full path written to, e.g. auth/approle/login.
func loginError(method, loginPath string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%s login at %s was refused (%s): %w", method, loginPath, answer(re), providers.ErrAuth)
	}
	return classify(method+" login at", loginPath, err)
}

// answer describes a server's error answer: its status and its cleaned text.
func answer(re *api.ResponseError) string {
	if text := serverText(re.Errors); text != "" {
		return fmt.Sprintf("%d: %s", re.StatusCode, text)
	}
	return fmt.Sprint(re.StatusCode)
}
