package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// attacker is an HTTP server a tenant runs: it records every request it
// receives (headers and bodies) and answers with what hurts most: huge,
// compressed or redirecting bodies, and errors that echo the request.
type attacker struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []recorded
	// redirectTo, when set, is where /v1/secret/data/redirect points.
	redirectTo string
}

type recorded struct {
	path   string
	header http.Header
	body   string
}

// bigBody is what /v1/secret/data/big streams: far more than any cap.
const bigBody = 256 << 20

func newAttacker() *attacker {
	a := &attacker{}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

func (a *attacker) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	a.mu.Lock()
	a.requests = append(a.requests, recorded{path: r.URL.Path, header: r.Header.Clone(), body: string(body)})
	redirect := a.redirectTo
	a.mu.Unlock()
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/login") || strings.Contains(p, "/login/"):
		// Echo what the operator sent, as a server error, hoping it lands in a status.
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{"bad login: " + string(body) + " token=" + r.Header.Get("X-Vault-Token")}})
	case p == "/v1/auth/token/lookup-self":
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"id": "x", "ttl": 0, "policies": []string{"root"}}})
	case strings.HasPrefix(p, "/v1/sys/internal/ui/mounts"):
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"path": "secret/", "type": "kv", "options": map[string]any{"version": "2"}}})
	case p == "/v1/secret/data/big":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"data":{"k":"`)
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for i := 0; i < bigBody>>20; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}}}`)
	case p == "/v1/secret/data/trickle":
		// A big answer's first 320 KiB at once, then nothing until the
		// operator gives up: it would hold a big-answer slot while it waits.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"data":{"k":"`)
		_, _ = w.Write(bytes.Repeat([]byte("T"), 320<<10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	case p == "/v1/secret/data/gzip":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gzipBomb())
	case p == "/v1/secret/data/redirect" && redirect != "":
		http.Redirect(w, r, redirect+r.URL.Path, http.StatusTemporaryRedirect)
	case p == "/v1/database/creds/giant":
		// A fresh lease ID of 512 KiB on every issue.
		_ = json.NewEncoder(w).Encode(map[string]any{"lease_id": "database/creds/giant/" + strings.Repeat("L", 512<<10),
			"lease_duration": 3600, "renewable": true, "data": map[string]any{"username": "u", "password": "p"}})
	case p == "/v1/secret/data/echo":
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{"no: " + r.Header.Get("X-Vault-Token")}})
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[]}`)
	}
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is a small gzip stream of a JSON secret that inflates to 1 GiB.
func gzipBomb() []byte {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = io.WriteString(zw, `{"data":{"data":{"k":"`)
		zeros := make([]byte, 1<<20)
		for range 1024 {
			_, _ = zw.Write(zeros)
		}
		_, _ = io.WriteString(zw, `"}}}`)
		_ = zw.Close()
		bomb = buf.Bytes()
	})
	return bomb
}

// received returns a copy of what was recorded.
func (a *attacker) received() []recorded {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recorded(nil), a.requests...)
}

// credentials returns every Kubernetes-token-shaped string the attacker saw:
// JWTs in login bodies and in headers.
func (a *attacker) credentials() []string {
	var out []string
	for _, r := range a.received() {
		var body map[string]any
		if json.Unmarshal([]byte(r.body), &body) == nil {
			if jwt, ok := body["jwt"].(string); ok {
				out = append(out, jwt)
			}
		}
		for _, vals := range r.header {
			for _, v := range vals {
				v = strings.TrimPrefix(v, "Bearer ")
				if strings.Count(v, ".") == 2 && len(v) > 40 {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func (a *attacker) close() { a.srv.Close() }
