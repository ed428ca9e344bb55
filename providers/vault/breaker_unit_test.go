package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

func TestHealth_OnlyTheServersOwnFailuresStopEveryNamespace(t *testing.T) {
	status := func(code int) error { return classify("read", "secret/data/k", &api.ResponseError{StatusCode: code}) }
	transport := func(err error) error { return classify("read", "secret/data/k", err) }
	cases := []struct {
		name         string
		err          error
		storeWide    bool
		tenantOpen   bool
		ownNamespace bool // the request went to the namespace's own OpenBao namespace (tenancy.namespace)
	}{
		{"503 from a tenant's own OpenBao namespace stops that namespace only", status(http.StatusServiceUnavailable), false, true, true},
		{"a refused connection stops the store even from a tenant's own OpenBao namespace", transport(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true, false, true},
		{"a refused connection stops the store", transport(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true, false, false},
		{"a dropped connection stops the store", transport(fmt.Errorf("Get: %w", io.EOF)), true, false, false},
		{"an unknown DNS name stops the store", transport(&net.DNSError{Err: "no such host", Name: "bao"}), true, false, false},
		{"a TLS failure stops the store", transport(x509.UnknownAuthorityError{}), true, false, false},
		{"502 stops the store", status(http.StatusBadGateway), true, false, false},
		{"503 stops the store", status(http.StatusServiceUnavailable), true, false, false},
		{"504 stops the store", status(http.StatusGatewayTimeout), true, false, false},
		{"429 from a quota stops the namespace only", status(http.StatusTooManyRequests), false, true, false},
		{"500 stops the namespace only", status(http.StatusInternalServerError), false, true, false},
		{"an oversized answer stops the namespace only", transport(errAnswerTooLarge), false, true, false},
		{"a timeout stops the namespace only", transport(context.DeadlineExceeded), false, true, false},
		{"a refusal stops nothing", status(http.StatusForbidden), false, false, false},
		{"a cancelled request stops nothing", transport(context.Canceled), false, false, false},
	}
	now := time.Unix(1000, 0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h health
			h.note(now, "noisy", tc.err, tc.ownNamespace)
			other := h.check(now, "shared", "quiet")
			own := h.check(now, "shared", "noisy")
			if got := other != nil; got != tc.storeWide {
				t.Errorf("another namespace stopped: %v, want %v (%v)", got, tc.storeWide, other)
			}
			if got := own != nil; got != (tc.storeWide || tc.tenantOpen) {
				t.Errorf("the failing namespace stopped: %v, want %v", got, tc.storeWide || tc.tenantOpen)
			}
			if own != nil && !errors.Is(own, providers.ErrUnavailable) {
				t.Errorf("an open breaker answers %v, want ErrUnavailable", own)
			}
			if h.check(now.Add(breakerMin), "shared", "noisy") != nil {
				t.Error("the breaker outlived its first window")
			}
		})
	}
}

func TestHealth_ASuccessClosesTheNamespacesBreakerAndForgetsIt(t *testing.T) {
	var h health
	now := time.Unix(1000, 0)
	h.note(now, "noisy", classify("read", "k", &api.ResponseError{StatusCode: http.StatusTooManyRequests}), false)
	if h.check(now, "shared", "noisy") == nil {
		t.Fatal("the namespace's breaker did not open")
	}
	h.note(now, "noisy", nil, false)
	if err := h.check(now, "shared", "noisy"); err != nil || len(h.tenants) != 0 {
		t.Fatalf("after a success: %v, %d namespaces tracked", err, len(h.tenants))
	}
}

func TestHealth_TracksABoundedNumberOfNamespaces(t *testing.T) {
	var h health
	now := time.Unix(1000, 0)
	for i := range maxOpenTenants + 100 {
		h.note(now, fmt.Sprint("ns-", i), classify("read", "k", &api.ResponseError{StatusCode: http.StatusTooManyRequests}), false)
	}
	if len(h.tenants) > maxOpenTenants {
		t.Fatalf("%d namespaces tracked, want at most %d", len(h.tenants), maxOpenTenants)
	}
}
