package vault

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/api/v1alpha1"
)

// guardedClient returns a client built by newAPIClient for srv (trusting its
// certificate when it serves TLS), with a token set.
func guardedClient(t *testing.T, srv *httptest.Server) *api.Client {
	t.Helper()
	var m tlsMaterial
	if srv.TLS != nil {
		m.caBundle = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	}
	c, err := newAPIClient(&v1alpha1.VaultProvider{Server: srv.URL}, m, &options{requestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("tok-guard-0123456789")
	return c
}

// servers starts a plain and a TLS server with the same handler.
func servers(t *testing.T, h http.Handler) map[string]*httptest.Server {
	t.Helper()
	plain, tls := httptest.NewServer(h), httptest.NewTLSServer(h)
	t.Cleanup(plain.Close)
	t.Cleanup(tls.Close)
	return map[string]*httptest.Server{"http": plain, "https": tls}
}

// bigSecret is a KV answer of about n bytes.
func bigSecret(n int) []byte {
	return []byte(`{"data":{"k":"` + strings.Repeat("x", n) + `"}}`)
}

// gzipped compresses b.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGuard_ASlowBigAnswerHoldsNoDecodeSlot is issue 21's third attack: a
// tenant's server that sends a big answer and then trickles must not hold the
// provider's big-answer slots, which every other tenant's big reads need.
func TestGuard_ASlowBigAnswerHoldsNoDecodeSlot(t *testing.T) {
	stall := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bigSecret(2 * bigAnswer))
		w.(http.Flusher).Flush()
		<-stall // the rest never comes while the test runs
	}))
	defer slow.Close()
	defer close(stall) // before Close, which waits for the handler
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bigSecret(2 * bigAnswer))
	}))
	defer fast.Close()
	big := make(chan struct{}, 1) // one slot: the slow answer must not take it
	client := &http.Client{Transport: &guard{next: &http.Transport{}, big: big}}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slowDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, slow.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		slowDone <- err
	}()
	time.Sleep(200 * time.Millisecond) // the slow answer's first 512 KiB are in
	if len(big) != 0 {
		t.Fatal("a trickling answer holds the big-answer slot")
	}
	resp, err := client.Get(fast.URL)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil || n < 2*bigAnswer {
		t.Fatalf("another server's big answer: read %d bytes, %v", n, err)
	}
	if len(big) != 0 {
		t.Fatal("a closed answer kept its slot")
	}
	cancel()
	if err := <-slowDone; err == nil {
		t.Fatal("the stalled answer was read whole")
	}
}

func TestGuard_RefusesRedirectsToAnotherServer(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusFound, http.StatusMovedPermanently, http.StatusPermanentRedirect} {
		for _, scheme := range []string{"http", "https"} {
			t.Run(http.StatusText(status)+" over "+scheme, func(t *testing.T) {
				var reached atomic.Int64
				other := servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					reached.Add(1)
					_, _ = w.Write([]byte(`{"auth":{"client_token":"stolen"}}`))
				}))[scheme]
				first := servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+r.URL.RequestURI(), status)
				}))[scheme]
				c := guardedClient(t, first)
				_, rerr := c.Logical().ReadWithContext(context.Background(), "secret/data/app")
				_, werr := c.Logical().WriteWithContext(context.Background(), "auth/approle/login", map[string]any{"secret_id": "sid-0123456789"})
				for _, err := range []error{rerr, werr} {
					if !errors.Is(err, errRedirect) {
						t.Fatalf("got %v, want errRedirect", err)
					}
					if strings.Contains(err.Error(), "tok-guard") || strings.Contains(err.Error(), "sid-0123") {
						t.Fatalf("the error names the token or the body: %v", err)
					}
				}
				if n := reached.Load(); n != 0 {
					t.Fatalf("the other server received %d requests", n)
				}
			})
		}
	}
}

// TestGuard_RedactsTheRequestFromErrorAnswers has a server echo the token and
// the login body in its error text, as JSON and as plain text.
func TestGuard_RedactsTheRequestFromErrorAnswers(t *testing.T) {
	const secretID, password = "sid-5f1e-2a9c-echoed", `pa"ss\word-echoed`
	echo := func(asJSON bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			text := "bad request from " + r.Header.Get("X-Vault-Token") + " with " + string(body)
			w.WriteHeader(http.StatusBadRequest)
			if asJSON {
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{text}})
				return
			}
			_, _ = w.Write([]byte(text))
		}
	}
	for _, asJSON := range []bool{true, false} {
		for scheme, srv := range servers(t, echo(asJSON)) {
			t.Run(scheme+map[bool]string{true: " json", false: " text"}[asJSON], func(t *testing.T) {
				_, err := guardedClient(t, srv).Logical().WriteWithContext(context.Background(), "auth/approle/login",
					map[string]any{"role_id": "role-0123", "secret_id": secretID, "nested": map[string]any{"password": password}})
				msg := loginError("approle", "auth/approle/login", err).Error()
				for _, leak := range []string{"tok-guard-0123456789", secretID, password, `pa\"ss\\word`, "role-0123"} {
					if strings.Contains(msg, leak) {
						t.Fatalf("message holds %q: %s", leak, msg)
					}
				}
				if !strings.Contains(msg, redacted) || !strings.Contains(msg, "auth/approle/login was refused (400") {
					t.Fatalf("message: %s", msg)
				}
			})
		}
	}
}
