package vault

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

func TestLoginError_NamesTheLoginPathOnce(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		sentinel error
		want     string
	}{
		{name: "refused", err: &api.ResponseError{StatusCode: http.StatusBadRequest, Errors: []string{"invalid secret id"}},
			sentinel: providers.ErrAuth, want: "approle login at auth/approle/login was refused (400: invalid secret id)"},
		{name: "refused without text", err: &api.ResponseError{StatusCode: http.StatusForbidden},
			sentinel: providers.ErrAuth, want: "approle login at auth/approle/login was refused (403)"},
		{name: "server error", err: &api.ResponseError{StatusCode: http.StatusServiceUnavailable, Errors: []string{"sealed"}},
			sentinel: providers.ErrUnavailable, want: "approle login at auth/approle/login: server answered 503: sealed"},
		{name: "unreachable", err: fmt.Errorf("dial tcp: connection refused"),
			sentinel: providers.ErrUnavailable, want: "approle login at auth/approle/login: provider unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := loginError("approle", "auth/approle/login", tc.err)
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "auth/auth") {
				t.Fatalf("got %v (want %v containing %q)", err, tc.sentinel, tc.want)
			}
		})
	}
}
