package vault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/baosync/baosync/providers"
)

func TestGuard_RefusesAnswersPastTheCap(t *testing.T) {
	huge := bigSecret(maxResponseBytes + 1)
	bomb := gzipped(t, bigSecret(32<<20))
	var askedGzip atomic.Bool
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    error
	}{
		{name: "a declared length past the cap", want: errAnswerTooLarge, handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "99999999")
			_, _ = w.Write(huge)
		}},
		{name: "a chunked body past the cap", want: errAnswerTooLarge, handler: func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Flusher).Flush() // no Content-Length: the body is streamed
			_, _ = w.Write(huge)
		}},
		{name: "an error answer past its cap", want: errErrorTooLarge, handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			w.(http.Flusher).Flush()
			_, _ = w.Write(bigSecret(maxErrorBytes))
		}},
		{name: "an error answer declaring a length past its cap", want: errErrorTooLarge, handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(bigSecret(100000 - 17))
		}},
		{name: "a gzip bomb sent although not asked for", want: errCompressed, handler: func(w http.ResponseWriter, r *http.Request) {
			askedGzip.Store(askedGzip.Load() || r.Header.Get("Accept-Encoding") != "")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
		}},
	}
	for _, tc := range cases {
		for scheme, srv := range servers(t, tc.handler) {
			t.Run(tc.name+" over "+scheme, func(t *testing.T) {
				_, err := guardedClient(t, srv).Logical().ReadWithContext(context.Background(), "secret/data/app")
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if cerr := classify("read", "secret/data/app", err); !errors.Is(cerr, providers.ErrUnavailable) {
					t.Fatalf("classify: %v, want ErrUnavailable", cerr)
				}
			})
		}
	}
	if askedGzip.Load() {
		t.Fatal("the client asked for a compressed answer")
	}
}

// TestGuard_CountsAfterDecompression puts the guard over a transport that asks
// for gzip and decodes it: the cap holds for the decoded bytes.
func TestGuard_CountsAfterDecompression(t *testing.T) {
	bomb := gzipped(t, bigSecret(32<<20))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &guard{next: &http.Transport{}}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if !resp.Uncompressed {
		t.Fatal("the transport did not decode the answer; the test proves nothing")
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, errAnswerTooLarge) || n > maxResponseBytes {
		t.Fatalf("read %d bytes, %v; want at most %d and errAnswerTooLarge", n, err, maxResponseBytes)
	}
}

func TestGuard_FollowsARedirectOnTheSameServer(t *testing.T) {
	for scheme, srv := range servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/secret/data/old" {
			http.Redirect(w, r, "/v1/secret/data/new", http.StatusTemporaryRedirect)
			return
		}
		_, _ = w.Write([]byte(`{"data":{"data":{"k":"` + r.URL.Path + `"}}}`))
	})) {
		t.Run(scheme, func(t *testing.T) {
			sec, err := guardedClient(t, srv).Logical().ReadWithContext(context.Background(), "secret/data/old")
			if err != nil {
				t.Fatal(err)
			}
			if got := sec.Data["data"].(map[string]any)["k"]; got != "/v1/secret/data/new" {
				t.Fatalf("read %v", got)
			}
		})
	}
}
