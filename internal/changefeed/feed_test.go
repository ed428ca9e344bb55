package changefeed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// recorder is a Handler that keeps what it is told.
type recorder struct {
	mu        sync.Mutex
	changes   map[string][]Change
	connected map[string]int
}

func newRecorder() *recorder {
	return &recorder{changes: map[string][]Change{}, connected: map[string]int{}}
}

func (r *recorder) Changed(store string, c Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes[store] = append(r.changes[store], c)
}

func (r *recorder) Connected(store string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connected[store]++
}

func (r *recorder) count(store string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes[store])
}

// auditLine is an audit device's response entry for op on path of mount.
func auditLine(prefix, op, mount, path string) string {
	return fmt.Sprintf(`%s{"time":"2026-12-06T17:08:42.3Z","type":"response","auth":{"client_token":"hmac-sha256:aa"},`+
		`"request":{"operation":%q,"mount_point":%q,"mount_type":"kv","namespace":{"id":"root"},"path":%q,`+
		`"data":{"data":{"password":"hmac-sha256:bb"}}},"response":{"data":{"version":1}}}`+"\n", prefix, op, mount+"/", mount+"/"+path)
}

// serve starts f on a local port and returns its address.
func serve(t *testing.T, f *Feed) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr().String()
}

func send(t *testing.T, addr string, lines ...string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if _, err := c.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestParse_OnlySuccessfulWritesToKVMountsAreChanges(t *testing.T) {
	ok := func(op, path string) string {
		return fmt.Sprintf(`{"type":"response","request":{"operation":%q,"mount_point":"secret/","mount_type":"kv","namespace":{"id":"root"},"path":%q}}`, op, path)
	}
	cases := []struct {
		name, body string
		want       string // Full(); empty: no change
	}{
		{"a KV v2 write", ok("create", "secret/data/app/db"), "secret/data/app/db"},
		{"a KV v2 metadata update", ok("update", "secret/metadata/app/db"), "secret/metadata/app/db"},
		{"a KV v2 destroy", ok("update", "secret/destroy/app/db"), "secret/destroy/app/db"},
		{"a delete", ok("delete", "secret/data/app/db"), "secret/data/app/db"},
		{"a patch", ok("patch", "secret/data/app/db"), "secret/data/app/db"},
		{"a read is no change", ok("read", "secret/data/app/db"), ""},
		{"a list is no change", ok("list", "secret/metadata/app"), ""},
		{"the request entry is not the outcome", strings.Replace(ok("create", "secret/data/a"), `"response"`, `"request"`, 1), ""},
		{"a failed write is no change", strings.Replace(ok("create", "secret/data/a"), `"type":"response"`, `"type":"response","error":"permission denied"`, 1), ""},
		{"a write to another engine is no change", strings.Replace(ok("update", "secret/data/a"), `"kv"`, `"database"`, 1), ""},
		{"a path outside its mount is no change", strings.Replace(ok("update", "other/data/a"), `"secret/"`, `"secret/"`, 1), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parse([]byte(c.body), time.Now())
			if c.want == "" {
				if err == nil {
					t.Fatalf("parse = %+v; want no change", got)
				}
				return
			}
			if err != nil || got.Full() != c.want {
				t.Fatalf("parse = %+v, %v; want %s", got, err, c.want)
			}
		})
	}
	if _, err := parse([]byte(`{"type":`), time.Now()); err == nil {
		t.Fatal("a broken entry parsed")
	}
}

func TestKVKeys_AChangeNamesTheKeyInEitherVersion(t *testing.T) {
	for path, want := range map[string][2]string{
		"data/app/db":     {"app/db", "data/app/db"},
		"metadata/app/db": {"app/db", "metadata/app/db"},
		"undelete/app":    {"app", "undelete/app"},
		"app/db":          {"", "app/db"},
	} {
		v2, v1 := Change{Path: path}.KVKeys()
		if v2 != want[0] || v1 != want[1] {
			t.Errorf("KVKeys(%q) = %q, %q; want %q, %q", path, v2, v1, want[0], want[1])
		}
	}
}

func TestFeed_ALineSpeaksOnlyForTheStoresOfItsToken(t *testing.T) {
	rec := newRecorder()
	reg := prometheus.NewRegistry()
	f := New(Options{Metrics: NewMetrics(reg)}, rec)
	f.Register("SecretStore/a/vault", "token-a")
	f.Register("SecretStore/b/vault", "token-b")
	addr := serve(t, f)
	ca := send(t, addr, auditLine("token-a ", "create", "secret", "data/app/db"))
	defer ca.Close()
	eventually(t, "a's change", func() bool { return rec.count("SecretStore/a/vault") == 1 })
	if ok, _ := f.Status("SecretStore/a/vault"); !ok {
		t.Fatal("a's stream is connected but its status says not")
	}
	if ok, _ := f.Status("SecretStore/b/vault"); ok {
		t.Fatal("b's stream never connected but its status says it is")
	}
	// A forged token, b's token on a's connection, and no token at all change nothing.
	cx := send(t, addr, auditLine("guess ", "create", "secret", "data/x"), auditLine("", "create", "secret", "data/x"))
	defer cx.Close()
	_, _ = ca.Write([]byte(auditLine("token-b ", "create", "secret", "data/app/db")))
	_, _ = ca.Write([]byte(auditLine("token-a ", "create", "secret", "data/app/other")))
	eventually(t, "a's second change", func() bool { return rec.count("SecretStore/a/vault") == 2 })
	if n := rec.count("SecretStore/b/vault"); n != 0 {
		t.Fatalf("b was told of %d changes from lines it did not send", n)
	}
	rec.mu.Lock()
	connected := rec.connected["SecretStore/a/vault"]
	rec.mu.Unlock()
	if connected != 1 {
		t.Fatalf("a's stream (re)connected %d times; want 1", connected)
	}
}

func TestFeed_OversizedMalformedAndFloodedLinesAreDroppedAndCounted(t *testing.T) {
	rec := newRecorder()
	m := NewMetrics(prometheus.NewRegistry())
	f := New(Options{MaxLine: 4096, ConnRate: 50, TotalRate: 50, Metrics: m}, rec)
	f.Register("s", "tok")
	addr := serve(t, f)
	huge := "tok " + `{"pad":"` + strings.Repeat("x", 100000) + `"}` + "\n"
	c := send(t, addr, huge, "tok not json\n", "garbage without a brace\n", auditLine("tok ", "create", "secret", "data/ok"))
	defer c.Close()
	eventually(t, "the good line after the bad ones", func() bool { return rec.count("s") == 1 })
	for i := range 500 {
		_, _ = c.Write([]byte(auditLine("tok ", "create", "secret", fmt.Sprintf("data/flood-%d", i))))
	}
	eventually(t, "the flood to be read", func() bool { return counter(m.Received) >= 504 })
	if n := rec.count("s"); n > 60 {
		t.Fatalf("%d changes from a flood; want at most the rate (50/s) and its burst", n)
	}
	for _, reason := range []string{dropOversized, dropMalformed, dropRateLimited} {
		if counter(m.Dropped.WithLabelValues(reason)) == 0 {
			t.Errorf("no line dropped as %s", reason)
		}
	}
}

func TestFeed_ConnectionsPastTheBoundAreClosed(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	f := New(Options{MaxConns: 2, Metrics: m}, newRecorder())
	addr := serve(t, f)
	var conns []net.Conn
	for range 4 {
		conns = append(conns, send(t, addr))
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	eventually(t, "two refused connections", func() bool { return counter(m.Dropped.WithLabelValues("too_many_connections")) == 2 })
}

func counter(c prometheus.Counter) float64 {
	var m = &dtoMetric{}
	_ = c.Write(&m.Metric)
	return m.GetCounter().GetValue()
}

func TestRegister_ATokenBelongsToOneNamespaceOrTheCluster(t *testing.T) {
	f := New(Options{}, newRecorder())
	if err := f.Register("SecretStore/a/one", "tok"); err != nil {
		t.Fatal(err)
	}
	if err := f.Register("SecretStore/a/two", "tok"); err != nil {
		t.Fatalf("a namespace's two stores may share a token: %v", err)
	}
	if err := f.Register("SecretStore/b/spy", "tok"); !errors.Is(err, ErrTokenTaken) {
		t.Fatalf("another namespace registered a's token: %v", err)
	}
	if err := f.Register("ClusterSecretStore//shared", "tok"); err != nil {
		t.Fatalf("the admin's store was refused: %v", err)
	}
	if err := f.Register("SecretStore/a/three", "tok"); !errors.Is(err, ErrTokenTaken) {
		t.Fatalf("a namespace took the cluster store's token: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.stores["SecretStore/a/one"]; ok {
		t.Fatal("a namespaced store kept a token the cluster store took")
	}
}

func TestFeed_OneClientCannotTakeEveryConnection(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	f := New(Options{MaxConns: 32, Metrics: m}, newRecorder())
	addr := serve(t, f)
	var conns []net.Conn
	for range maxConnsPerIP + 3 {
		conns = append(conns, send(t, addr))
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	eventually(t, "the connections past the per-address bound refused", func() bool {
		return counter(m.Dropped.WithLabelValues("too_many_connections")) == 3
	})
}
