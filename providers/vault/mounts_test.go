package vault

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// cachedClient is a storeClient whose mount cache already holds mounts, so
// that locateChecked needs no server.
func cachedClient(t *testing.T, v *v1alpha1.VaultProvider, now time.Time, mounts ...mountInfo) *storeClient {
	t.Helper()
	c := &storeClient{spec: v, name: "SecretStore/ns/test", down: &health{}, opts: &options{clock: func() time.Time { return now }}}
	for _, m := range mounts {
		m.at = now
		c.mounts().put(m)
	}
	return c
}

// recorder is a reverse proxy to the dev server that records request paths.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	// inconsistent holds each request's X-Vault-Inconsistent values, joined
	// with commas ("" when it had none).
	inconsistent []string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	target, err := url.Parse(server.Addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.inconsistent = append(r.inconsistent, strings.Join(req.Header.Values("X-Vault-Inconsistent"), ","))
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// since returns the paths recorded after the first n.
func (r *recorder) since(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths[n:]...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.paths)
}

// rootStore returns a client of a store that logs in with the root token
// through a recorder: whatever it refuses, it refuses although the token could.
func rootStore(t *testing.T, name string, path *string, version v1alpha1.VaultKVStoreVersion, observe func(op, res string)) (providers.SecretsClient, *recorder) {
	t.Helper()
	rec := newRecorder(t)
	store := &v1alpha1.SecretStore{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: rec.URL, Path: path, Version: version,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "root", Key: "token"}},
		}}},
	}
	c, err := New(WithRequestObserver(observe)).NewClient(context.Background(), store, secrets{"ns/root/token": server.Token}, "ns")
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// mustSetUp runs a setup write with the root token; "already in use" is fine.
func mustSetUp(t *testing.T, path string, data map[string]any) {
	t.Helper()
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(context.Background(), path, data); err != nil && !strings.Contains(err.Error(), "already in use") {
		t.Fatal(err)
	}
}

func TestMounts_RefusesPathsOutsideKVMounts(t *testing.T) {
	mustSetUp(t, "sys/mounts/transit", map[string]any{"type": "transit"})
	ctx := context.Background()
	c, rec := rootStore(t, "outside", nil, v1alpha1.VaultKVStoreV2, nil)
	read := func(key, prop string) error {
		_, err := c.GetSecret(ctx, providers.RemoteRef{Key: key, Property: prop})
		return err
	}
	cases := []struct {
		name string
		do   func() error
		asks string // the one request allowed: the mount lookup
	}{
		{name: "the token's own lookup", do: func() error { return read("auth/token/lookup-self", "id") }},
		{name: "the mount table", do: func() error { return read("sys/mounts", "") }},
		{name: "the cubbyhole", do: func() error { return read("cubbyhole/x", "") }},
		{name: "an identity entity", do: func() error { return read("identity/entity/name/x", "") }},
		{name: "dot-dot out of a KV mount", do: func() error { return read("secret/../auth/token/lookup-self", "id") }},
		{name: "encoded dot-dot out of a KV mount", do: func() error { return read("secret/%2e%2e/sys/mounts", "") }},
		{name: "a push into sys", do: func() error {
			_, err := c.PushSecret(ctx, providers.PushRef{Key: "sys/policies/acl/mine", Property: "policy"}, []byte(`path "*" {}`))
			return err
		}},
		{name: "a find under auth", do: func() error { _, err := c.GetAllSecrets(ctx, providers.FindRef{Path: "auth/token"}); return err }},
		{name: "a find with dot-dot", do: func() error { _, err := c.GetAllSecrets(ctx, providers.FindRef{Path: "secret/../sys"}); return err }},
		{name: "a transit key", do: func() error { return read("transit/keys/k", "") }, asks: "/v1/sys/internal/ui/mounts/transit/keys/k"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := rec.count()
			err := tc.do()
			if !errors.Is(err, providers.ErrInvalidConfig) || !errors.Is(err, providers.ErrInvalidRef) {
				t.Fatalf("got %v, want ErrInvalidRef and ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), server.Token) {
				t.Fatalf("the error holds the token: %v", err)
			}
			want := []string(nil)
			if tc.asks != "" {
				want = []string{tc.asks}
			}
			if got := rec.since(before); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("requests %q; want %q", got, want)
			}
		})
	}
}

func TestMounts_RefusesAKVVersionMismatch(t *testing.T) {
	mustSetUp(t, "sys/mounts/kv1", map[string]any{"type": "kv", "options": map[string]any{"version": "1"}})
	mustSetUp(t, "kv1/app", map[string]any{"k": "v1-value"})
	ctx := context.Background()
	kv1 := "kv1"
	cases := []struct {
		name    string
		path    *string
		version v1alpha1.VaultKVStoreVersion
		key     string
		hint    string
	}{
		{name: "a v2 store without path", version: v1alpha1.VaultKVStoreV2, key: "kv1/app", hint: "store says version v2"},
		{name: "a v2 store with the v1 mount as path", path: &kv1, version: v1alpha1.VaultKVStoreV2, key: "app", hint: "set the store's version to v1"},
		{name: "a v1 store reads it", path: &kv1, version: v1alpha1.VaultKVStoreV1, key: "app"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := rootStore(t, "version"+string(rune('a'+i)), tc.path, tc.version, nil)
			v, err := c.GetSecret(ctx, providers.RemoteRef{Key: tc.key, Property: "k"})
			if tc.hint == "" {
				if err != nil || string(v) != "v1-value" {
					t.Fatalf("got %q, %v", v, err)
				}
				return
			}
			if !errors.Is(err, providers.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("got %v, want ErrInvalidConfig mentioning %q", err, tc.hint)
			}
		})
	}
}

func TestMounts_AMultiSegmentMountWorksWithoutStorePathAndIsLookedUpOnce(t *testing.T) {
	mustSetUp(t, "sys/mounts/team/a/kv", map[string]any{"type": "kv", "options": map[string]any{"version": "2"}})
	for _, k := range []string{"app", "db", "sub/x"} {
		mustSetUp(t, "team/a/kv/data/"+k, map[string]any{"data": map[string]any{"k": "v-" + k}})
	}
	ctx := context.Background()
	var lookups atomic.Int64
	c, _ := rootStore(t, "nested", nil, v1alpha1.VaultKVStoreV2, func(op, _ string) {
		if op == "mounts" {
			lookups.Add(1)
		}
	})
	var wg sync.WaitGroup
	for range 3 {
		for _, k := range []string{"app", "db", "sub/x"} {
			wg.Go(func() {
				v, err := c.GetSecret(ctx, providers.RemoteRef{Key: "team/a/kv/" + k, Property: "k"})
				if err != nil || string(v) != "v-"+k {
					t.Errorf("read team/a/kv/%s: %q, %v", k, v, err)
				}
			})
		}
	}
	wg.Wait()
	found, err := c.GetAllSecrets(ctx, providers.FindRef{Path: "team/a/kv"})
	if err != nil || len(found) != 3 || string(found["sub/x"]) != `{"k":"v-sub/x"}` {
		t.Fatalf("find: %q, %v", found, err)
	}
	if n := lookups.Load(); n != 1 {
		t.Fatalf("9 concurrent reads and a find in one mount made %d mount lookups, want 1", n)
	}
}
