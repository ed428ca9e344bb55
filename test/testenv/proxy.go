package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is what the proxy does to requests.
type Fault int

const (
	// Pass forwards requests.
	Pass Fault = iota
	// Refuse closes connections at once, as an unreachable server would.
	Refuse
	// ServerError answers 500.
	ServerError
	// Malformed answers 200 with a body that is not JSON.
	Malformed
)

// Proxy is an HTTP reverse proxy on 127.0.0.1 in front of the Vault dev server.
// It counts requests by kind and injects faults and latency, for fault tests
// and the benchmark.
type Proxy struct {
	// Addr is the proxy's URL.
	Addr string

	target   *url.URL
	srv      *http.Server
	listener net.Listener
	fault    atomic.Int32
	delay    atomic.Int64

	mu     sync.Mutex
	counts map[string]int64
}

// StartProxy starts a proxy to target (e.g. env.Vault.Addr).
func StartProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parse proxy target: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &Proxy{Addr: "http://" + l.Addr().String(), target: u, listener: l, counts: map[string]int64{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	rp.ErrorLog = nil
	p.srv = &http.Server{Handler: p.handler(rp), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(KindOf(r.Method, r.URL.Path))
		if d := time.Duration(p.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		switch Fault(p.fault.Load()) {
		case Refuse:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			w.WriteHeader(http.StatusBadGateway)
		case ServerError:
			http.Error(w, `{"errors":["injected server error"]}`, http.StatusInternalServerError)
		case Malformed:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data": {"truncated`))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// KindOf names a Vault request for counting: login, renew, lookup,
// lease-renew, lease-revoke, read, list, write or other.
func KindOf(method, path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/sys/leases/renew"):
		return "lease-renew"
	case strings.HasPrefix(path, "/v1/sys/leases/revoke"):
		return "lease-revoke"
	case strings.HasPrefix(path, "/v1/auth/") && strings.Contains(path, "/login"):
		return "login"
	case strings.HasPrefix(path, "/v1/auth/token/renew"):
		return "renew"
	case strings.HasPrefix(path, "/v1/auth/token/lookup"):
		return "lookup"
	case method == "LIST" || (method == http.MethodGet && strings.Contains(path, "list=true")):
		return "list"
	case method == http.MethodGet:
		return "read"
	case method == http.MethodPut || method == http.MethodPost || method == http.MethodPatch || method == http.MethodDelete:
		return "write"
	}
	return "other"
}

func (p *Proxy) count(kind string) {
	p.mu.Lock()
	p.counts[kind]++
	p.mu.Unlock()
}

// Counts returns a copy of the request counts by kind.
func (p *Proxy) Counts() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int64, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// SetFault changes what the proxy does to the following requests.
func (p *Proxy) SetFault(f Fault) { p.fault.Store(int32(f)) }

// SetDelay delays every following request by d.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Stop shuts the proxy down.
func (p *Proxy) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
