package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/baosync/baosync/providers"
)

// breaker stops requests to a server, or a namespace's requests, that keep
// failing: after a failure the following requests fail at once for a window
// that doubles with each failure (1 s up to 10 s); a success closes it.
// Without it every object due for a refresh would try for itself during an
// outage.
type breaker struct {
	mu        sync.Mutex
	openUntil time.Time
	window    time.Duration
}

const (
	breakerMin = time.Second //nolint:revive // time-naming: Min is the minimum window, not minutes
	breakerMax = 10 * time.Second
)

// openFor returns how long the breaker stays open; 0 when it is closed.
func (b *breaker) openFor(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.openUntil) {
		return b.openUntil.Sub(now)
	}
	return 0
}

// failed opens the breaker for the next window. The failure's message is not
// kept: a shared store's breaker answers every tenant, and the message names
// the remote key of whichever tenant's request failed.
func (b *breaker) failed(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.window = min(max(b.window*2, breakerMin), breakerMax)
	b.openUntil = now.Add(b.window)
}

// succeeded closes the breaker.
func (b *breaker) succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.window, b.openUntil = 0, time.Time{}
}

// health is a store's breakers. The store-wide one opens only on failures of
// the server itself (no connection, a TLS failure, 502, 503 or 504), which no
// namespace's requests can cause on a server it does not run. Everything else
// that counts as unavailable (429 from a rate-limit quota, 500, a timeout, an
// answer the guard refuses) opens the breaker of the namespace whose request
// failed only: on a shared store, one tenant pushing and reading oversized
// values or exceeding its quota must not stop everyone else's syncs.
type health struct {
	server breaker

	mu      sync.Mutex
	tenants map[string]*breaker // open namespaces only
}

// maxOpenTenants bounds health.tenants; past it, the oldest entries are not
// tracked (their namespaces simply retry with the controller's back-off).
const maxOpenTenants = 4096

// check returns an ErrUnavailable error while the store's or the namespace's
// breaker is open.
func (h *health) check(now time.Time, store, namespace string) error {
	if d := h.server.openFor(now); d > 0 {
		return fmt.Errorf("store %s: the server failed recently; next attempt in %s: %w",
			store, d.Round(100*time.Millisecond), providers.ErrUnavailable)
	}
	if b := h.tenant(namespace, false); b != nil {
		if d := b.openFor(now); d > 0 {
			return fmt.Errorf("store %s: requests of namespace %q failed recently; next attempt in %s: %w",
				store, namespace, d.Round(100*time.Millisecond), providers.ErrUnavailable)
		}
	}
	return nil
}

// note records the result of one request of namespace: a success or any
// answer of the server (even a refusal) closes both breakers, an unavailable
// one opens the store's or the namespace's, as serverFault says.
// ownNamespace says the request went to an OpenBao/Vault namespace of the
// requesting namespace's own (a shared store's tenancy.namespace): a 502,
// 503 or 504 there may be that namespace's doing (a locked namespace), so it
// opens that namespace's breaker only; a failed connection still opens the
// store's.
func (h *health) note(now time.Time, namespace string, err error, ownNamespace bool) {
	switch {
	case errors.Is(err, context.Canceled):
	case !errors.Is(err, providers.ErrUnavailable):
		h.server.succeeded()
		h.forget(namespace)
	case serverFault(err) && (!ownNamespace || !errors.Is(err, errServerDown)):
		h.server.failed(now)
	default:
		if b := h.tenant(namespace, true); b != nil {
			b.failed(now)
		}
	}
}

// tenant returns namespace's breaker, making it when create is set.
func (h *health) tenant(namespace string, create bool) *breaker {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.tenants[namespace]
	if b == nil && create && len(h.tenants) < maxOpenTenants {
		if h.tenants == nil {
			h.tenants = map[string]*breaker{}
		}
		b = &breaker{}
		h.tenants[namespace] = b
	}
	return b
}

// forget drops namespace's breaker: it is closed.
func (h *health) forget(namespace string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.tenants, namespace)
}

// serverFault reports whether err shows the server itself failing: it could
// not be reached or dropped the connection, its TLS failed, or it (or its load
// balancer) answered 502, 503 or 504. A timeout is not one: a tenant can make
// its own requests slow.
func serverFault(err error) bool {
	var (
		op       *net.OpError
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
	)
	return errors.Is(err, errServerDown) || (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record)
}
