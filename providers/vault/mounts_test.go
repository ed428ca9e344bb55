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

	"github.com/openbao/openbao/api/v2"
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

func TestLocateChecked_UsesTheMountTheServerNamed(t *testing.T) {
	now := time.Now()
	mounts := []mountInfo{
		{path: "team/a/kv", kind: "kv"},
		{path: "secret", kind: "kv"},
		{path: "kv1", kind: "kv", v1: true},
		{path: "old", kind: "generic", v1: true},
		{path: "transit", kind: "transit", v1: true},
	}
	nested, secret, kv1, transit, sub, folder := "team/a/kv", "secret", "kv1", "transit", "kv1/team", "secret/team"
	v2, v1 := v1alpha1.VaultKVStoreV2, v1alpha1.VaultKVStoreV1
	cases := []struct {
		name    string
		path    *string
		version v1alpha1.VaultKVStoreVersion
		key     string
		want    string // data path; "" for a refusal
		ref     bool   // the refusal is the key's (ErrInvalidRef)
		hint    string
	}{
		{name: "a mount of three segments without store path", version: v2, key: "team/a/kv/app/db", want: "team/a/kv/data/app/db"},
		{name: "a mount of three segments as store path", path: &nested, version: v2, key: "app", want: "team/a/kv/data/app"},
		{name: "a key repeating a multi-segment store path", path: &nested, version: v2, key: "team/a/kv/app", want: "team/a/kv/data/app"},
		{name: "the API form of a key in a mount of three segments", version: v2, key: "team/a/kv/data/app/db", want: "team/a/kv/data/app/db"},
		{name: "the API form of a key with a store path", path: &secret, version: v2, key: "secret/data/app", want: "secret/data/app"},
		{name: "the API form of a key in a KV v1 mount is a folder", version: v1, key: "kv1/data/app", want: "kv1/data/app"},
		{name: "a KV v1 mount", version: v1, key: "kv1/app", want: "kv1/app"},
		{name: "a KV v1 store path below the mount", path: &sub, version: v1, key: "app", want: "kv1/team/app"},
		{name: "a generic mount", version: v1, key: "old/app", want: "old/app"},
		{name: "the mount itself", version: v2, key: "team/a/kv", ref: true, hint: "names the KV mount team/a/kv itself"},
		{name: "a transit key", version: v2, key: "transit/keys/k", ref: true, hint: "transit mount"},
		{name: "a store path at a transit mount", path: &transit, version: v1, key: "keys/k", hint: "not in a KV mount"},
		{name: "a v1 mount through a v2 store", version: v2, key: "kv1/app", ref: true, hint: "version v1, but the store says version v2"},
		{name: "a v2 mount through a v1 store", version: v1, key: "secret/app", ref: true, hint: "version v2, but the store says version v1"},
		{name: "a v1 store path in a v2 store", path: &kv1, version: v2, key: "app", hint: "set the store's version to v1"},
		{name: "a v2 store path below the mount", path: &sub, version: v1alpha1.VaultKVStoreV2, key: "app", hint: "version v1"},
		{name: "a v1 store path at a v2 mount", path: &secret, version: v1, key: "app", hint: "version v2"},
		{name: "a v2 store path naming a folder", path: &folder, version: v2, key: "app", hint: "set path to secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cachedClient(t, &v1alpha1.VaultProvider{Path: tc.path, Version: tc.version}, now, mounts...)
			loc, err := c.locateChecked(context.Background(), tc.key)
			if tc.want != "" {
				if err != nil || loc.dataPath() != tc.want {
					t.Fatalf("locateChecked(%q) = %q, %v; want %q", tc.key, loc.dataPath(), err, tc.want)
				}
				return
			}
			if !errors.Is(err, providers.ErrInvalidConfig) || errors.Is(err, providers.ErrInvalidRef) != tc.ref || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("got %v; want ErrInvalidConfig (ErrInvalidRef: %v) mentioning %q", err, tc.ref, tc.hint)
			}
		})
	}
}

func TestMountCache_FindsTheMountHoldingAPathUntilItsTTL(t *testing.T) {
	now := time.Now()
	var mc mountCache
	mc.put(mountInfo{path: "team/a/kv", kind: "kv", at: now})
	cases := []struct {
		path  string
		after time.Duration
		want  string
	}{
		{path: "team/a/kv/app", want: "team/a/kv"},
		{path: "team/a/kv", want: "team/a/kv"},
		{path: "team/a/kvx/app"},
		{path: "team/a"},
		{path: "team/b/kv/app"},
		{path: "team/a/kv/app", after: mountTTL},
	}
	for _, tc := range cases {
		m, ok := mc.lookup(tc.path, now.Add(tc.after))
		if ok != (tc.want != "") || m.path != tc.want {
			t.Errorf("lookup(%q) after %s = %q, %v; want %q", tc.path, tc.after, m.path, ok, tc.want)
		}
	}
}

func TestParseMount(t *testing.T) {
	cases := []struct {
		name string
		sec  *api.Secret
		want mountInfo
		err  error
	}{
		{name: "KV v2", sec: &api.Secret{Data: map[string]any{"path": "secret/", "type": "kv", "options": map[string]any{"version": "2"}}},
			want: mountInfo{path: "secret", kind: "kv"}},
		{name: "KV v1 without options", sec: &api.Secret{Data: map[string]any{"path": "team/a/kv/", "type": "kv"}},
			want: mountInfo{path: "team/a/kv", kind: "kv", v1: true}},
		{name: "no answer", err: providers.ErrInvalidConfig},
		{name: "no path", sec: &api.Secret{Data: map[string]any{"type": "kv"}}, err: providers.ErrUnavailable},
		{name: "a path with dot-dot", sec: &api.Secret{Data: map[string]any{"path": "../sys/", "type": "kv"}}, err: providers.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMount(tc.sec, time.Time{})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
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
