package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	"github.com/baosync/baosync/test/testenv"
)

// These tests talk to a real Vault dev server; no API server is needed, so the
// cluster side is a map behind providers.Kube.
var server *testenv.VaultServer

func TestMain(m *testing.M) {
	if code, ran := testenv.WithoutServers(m); ran {
		os.Exit(code)
	}
	dir, err := os.MkdirTemp("", "baosync-vault-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server, err = testenv.StartVault(context.Background(), testenv.VaultOptions{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = server.Stop()
	if code == 0 {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// secrets is a providers.Kube over a map of "ns/name/key" to value.
type secrets map[string]string

func (s secrets) SecretValue(_ context.Context, ns, name, key string) ([]byte, error) {
	v, ok := s[ns+"/"+name+"/"+key]
	if !ok {
		return nil, fmt.Errorf("no %s/%s key %s", ns, name, key)
	}
	return []byte(v), nil
}
func (s secrets) ConfigMapValue(context.Context, string, string, string) ([]byte, error) {
	return nil, fmt.Errorf("no configmaps")
}
func (s secrets) ServiceAccountToken(context.Context, string, string, []string, time.Duration) (string, error) {
	return "", fmt.Errorf("no tokens")
}
func (s secrets) AcceptedByAPIServer(_ context.Context, token string) (bool, error) {
	return s["api-accepts/"+token] != "", nil
}

// counter counts provider requests by operation.
type counter struct{ logins, reads atomic.Int64 }

func (c *counter) observe(op, result string) {
	switch {
	case op == "login":
		c.logins.Add(1)
	case op == "read" && result != "cached":
		c.reads.Add(1)
	}
}

// mustWrite returns a check that fails t on a server's error.
func mustWrite(t *testing.T) func(*api.Secret, error) {
	return func(_ *api.Secret, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// appRoleStore sets up an AppRole role on the server and returns a store using it.
func appRoleStore(t *testing.T, root *api.Client, name string) (*v1alpha1.SecretStore, secrets) {
	t.Helper()
	ctx := context.Background()
	must := mustWrite(t)
	must(root.Logical().WriteWithContext(ctx, "sys/policies/acl/read", map[string]any{"policy": testenv.ReadPolicy}))
	_, _ = root.Logical().WriteWithContext(ctx, "sys/auth/approle", map[string]any{"type": "approle"})
	must(root.Logical().WriteWithContext(ctx, "auth/approle/role/"+name, map[string]any{"token_policies": "read", "token_ttl": "1h"}))
	rid, err := root.Logical().ReadWithContext(ctx, "auth/approle/role/"+name+"/role-id")
	must(rid, err)
	sid, err := root.Logical().WriteWithContext(ctx, "auth/approle/role/"+name+"/secret-id", nil)
	must(sid, err)
	roleID := rid.Data["role_id"].(string)
	path := "secret"
	store := &v1alpha1.SecretStore{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: server.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &roleID, SecretRef: v1alpha1.SecretKeySelector{Name: "ar", Key: "sid"}}},
		}}},
	}
	return store, secrets{"ns/ar/sid": sid.Data["secret_id"].(string)}
}

func TestClient_LogsInOnceForManyReadsAndAfterARevokedToken(t *testing.T) {
	ctx := context.Background()
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(ctx, "secret/data/lifecycle", map[string]any{"data": map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	store, kube := appRoleStore(t, root, "lifecycle")
	var n counter
	p := New(WithRequestObserver(n.observe))
	for range 20 {
		c, err := p.NewClient(ctx, store, kube, "ns")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetSecret(ctx, providers.RemoteRef{Key: "lifecycle", Property: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.logins.Load(); got != 1 {
		t.Fatalf("20 reads through 20 NewClient calls made %d logins, want 1", got)
	}

	// Revoke the operator's token behind its back: the next read gets a 403,
	// logs in once more, and succeeds.
	c, _ := p.NewClient(ctx, store, kube, "ns")
	tok := c.(*handle).currentToken()
	if _, err := root.Logical().WriteWithContext(ctx, "auth/token/revoke", map[string]any{"token": tok}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecret(ctx, providers.RemoteRef{Key: "lifecycle", Property: "k"}); err != nil {
		t.Fatalf("read after revocation: %v", err)
	}
	if got := n.logins.Load(); got != 2 {
		t.Fatalf("logins after a revoked token = %d, want 2", got)
	}
}

func TestClient_CoalescesIdenticalConcurrentReads(t *testing.T) {
	ctx := context.Background()
	root, _ := server.Client()
	if _, err := root.Logical().WriteWithContext(ctx, "secret/data/shared", map[string]any{"data": map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	store, kube := appRoleStore(t, root, "coalesce")
	var n counter
	p := New(WithRequestObserver(n.observe))
	c, err := p.NewClient(ctx, store, kube, "ns")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := c.GetSecret(ctx, providers.RemoteRef{Key: "shared", Property: "k"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := n.reads.Load(); got >= 50 {
		t.Fatalf("50 concurrent identical reads made %d requests; want them coalesced", got)
	}
	t.Logf("50 concurrent identical reads -> %d requests to Vault", n.reads.Load())
}

func TestClient_RenewsItsTokenBeforeItExpires(t *testing.T) {
	ctx := context.Background()
	root, _ := server.Client()
	if _, err := root.Logical().WriteWithContext(ctx, "secret/data/renew", map[string]any{"data": map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	store, kube := appRoleStore(t, root, "renew")
	var n counter
	var renewals atomic.Int64
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := New(WithClock(clock), WithAuthRecheck(time.Hour), WithRequestObserver(func(op, res string) {
		n.observe(op, res)
		if op == "renew" && res == "ok" {
			renewals.Add(1)
		}
	}))
	read := func() {
		c, err := p.NewClient(ctx, store, kube, "ns")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetSecret(ctx, providers.RemoteRef{Key: "renew", Property: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	read()
	// The role's tokens live 1h: 45 minutes later two thirds are gone.
	mu.Lock()
	now = now.Add(45 * time.Minute)
	mu.Unlock()
	read()
	if n.logins.Load() != 1 || renewals.Load() != 1 {
		t.Fatalf("after 45 of 60 minutes: %d logins, %d renewals; want 1 and 1", n.logins.Load(), renewals.Load())
	}
}

func TestClient_SharesReadsWithinMaxAgeAndNeverAfterNotFound(t *testing.T) {
	ctx := context.Background()
	root, _ := server.Client()
	write := func(v string) {
		if _, err := root.Logical().WriteWithContext(ctx, "secret/data/cached", map[string]any{"data": map[string]any{"k": v}}); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	store, kube := appRoleStore(t, root, "cache")
	var n counter
	c, err := New(WithRequestObserver(n.observe)).NewClient(ctx, store, kube, "ns")
	if err != nil {
		t.Fatal(err)
	}
	get := func(maxAge time.Duration) (string, error) {
		b, err := c.GetSecret(ctx, providers.RemoteRef{Key: "cached", Property: "k", MaxAge: maxAge})
		return string(b), err
	}
	for range 10 {
		if v, err := get(time.Minute); err != nil || v != "one" {
			t.Fatalf("got %q, %v", v, err)
		}
	}
	if got := n.reads.Load(); got != 1 {
		t.Fatalf("10 reads with MaxAge 1m made %d requests, want 1", got)
	}
	write("two")
	if v, _ := get(0); v != "two" {
		t.Fatalf("MaxAge 0 must ask the server: got %q", v)
	}
	if _, err := root.Logical().DeleteWithContext(ctx, "secret/metadata/cached"); err != nil {
		t.Fatal(err)
	}
	if _, err := get(0); !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if v, err := get(time.Minute); !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("a cached value outlived the server's not-found: %q, %v", v, err)
	}
}

func TestClient_StopsCallingAServerThatIsDown(t *testing.T) {
	ctx := context.Background()
	root, _ := server.Client()
	if _, err := root.Logical().WriteWithContext(ctx, "secret/data/breaker", map[string]any{"data": map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	store, kube := appRoleStore(t, root, "breaker")
	proxy, err := testenv.StartProxy(server.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = proxy.Stop() }()
	store.Spec.Provider.Vault.Server = proxy.Addr
	// The breaker's window is read from the provider's clock, which stands
	// still here: the window cannot lapse while the test reads, however slow
	// the machine, and the test moves the clock past it instead of sleeping.
	var ahead atomic.Int64
	start := time.Now()
	now := func() time.Time { return start.Add(time.Duration(ahead.Load())) }
	c, err := New(WithClock(now)).NewClient(ctx, store, kube, "ns")
	if err != nil {
		t.Fatal(err)
	}
	read := func() error {
		_, err := c.GetSecret(ctx, providers.RemoteRef{Key: "breaker", Property: "k"})
		return err
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	proxy.SetFault(testenv.Refuse)
	before := total(proxy.Counts())
	for range 200 {
		if err := read(); !errors.Is(err, providers.ErrUnavailable) {
			t.Fatalf("want ErrUnavailable while the server is down, got %v", err)
		}
	}
	if got := total(proxy.Counts()) - before; got > 2 {
		t.Fatalf("200 reads against a down server sent %d requests; the breaker should hold them back", got)
	}
	proxy.SetFault(testenv.Pass)
	if err := read(); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("the breaker let a read through inside its window: %v", err)
	}
	ahead.Add(int64(breakerMin + 100*time.Millisecond)) // past the first window
	if err := read(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
func (s secrets) NamespaceLabels(_ context.Context, ns string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range s {
		if key, ok := strings.CutPrefix(k, "labels/"+ns+"/"); ok {
			out[key] = v
		}
	}
	return out, nil
}
