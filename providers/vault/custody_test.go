package vault

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openbao/openbao/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// memCustody is a TokenCustody in memory, shared by the "processes" of a test.
type memCustody struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (m *memCustody) Load(_ context.Context, id string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	return t, ok, nil
}

func (m *memCustody) Save(_ context.Context, id, _, _, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[id] = token
	return nil
}

func (m *memCustody) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, id)
	return nil
}

func (m *memCustody) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tokens)
}

// leaseStore sets up a PKI role that issues leases, and an AppRole role whose
// tokens may use it, live ttl and at most maxTTL; it returns a store logging
// in with that role.
func leaseStore(t *testing.T, root *api.Client, name string, ttl, maxTTL time.Duration) (*v1alpha1.SecretStore, secrets) {
	t.Helper()
	ctx := context.Background()
	must := mustWrite(t)
	mount := "pki-" + name
	must(root.Logical().WriteWithContext(ctx, "sys/mounts/"+mount, map[string]any{"type": "pki", "config": map[string]any{"max_lease_ttl": "87600h"}}))
	must(root.Logical().WriteWithContext(ctx, mount+"/root/generate/internal", map[string]any{"common_name": "custody test", "ttl": "87600h", "key_type": "ec", "key_bits": 256}))
	must(root.Logical().WriteWithContext(ctx, mount+"/roles/r", map[string]any{"allow_any_name": true, "generate_lease": true, "ttl": "1h", "key_type": "ec", "key_bits": 256}))
	must(root.Logical().WriteWithContext(ctx, "sys/policies/acl/"+name, map[string]any{"policy": `path "` + mount + `/issue/r" { capabilities = ["create", "update"] }`}))
	_, _ = root.Logical().WriteWithContext(ctx, "sys/auth/approle", map[string]any{"type": "approle"})
	must(root.Logical().WriteWithContext(ctx, "auth/approle/role/"+name, map[string]any{"token_policies": name,
		"token_ttl": int(ttl.Seconds()), "token_max_ttl": int(maxTTL.Seconds())}))
	rid, err := root.Logical().ReadWithContext(ctx, "auth/approle/role/"+name+"/role-id")
	must(rid, err)
	sid, err := root.Logical().WriteWithContext(ctx, "auth/approle/role/"+name+"/secret-id", nil)
	must(sid, err)
	roleID := rid.Data["role_id"].(string)
	store := &v1alpha1.SecretStore{
		ObjectMeta: metav1.ObjectMeta{Name: "VaultDynamicSecret/" + name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: server.Addr,
			Auth: v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &roleID, SecretRef: v1alpha1.SecretKeySelector{Name: "ar", Key: "sid"}}}}}},
	}
	return store, secrets{"ns/ar/sid": sid.Data["secret_id"].(string)}
}

// TestCustody_ALeaseOwningTokenIsKeptAliveUntilItsMaxTTLAndAdoptedAfterARestart:
// the server revokes a lease with the token that issued it. A token of 3 s
// that issued a lease is kept in custody before the lease exists, renewed by
// the keeper well past its TTL, adopted by a new provider (a restart) from
// the custody, and, once its max TTL shows, reported to the lease's owners;
// the next lease belongs to a fresh login.
func TestCustody_ALeaseOwningTokenIsKeptAliveUntilItsMaxTTLAndAdoptedAfterARestart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	store, kube := leaseStore(t, root, "custody", 3*time.Second, 15*time.Second)
	kept := &memCustody{tokens: map[string]string{}}
	ended := make(chan string, 16)
	p := New(WithTokenCustody(kept), WithRequestTimeout(2*time.Second))
	p.OnTokenEnd(func(s string) {
		select {
		case ended <- s:
		default:
		}
	})
	started := make(chan struct{})
	go func() { defer close(started); _ = p.Start(ctx) }()
	defer func() { cancel(); <-started }()

	c, err := p.NewClient(ctx, store, kube, "ns")
	if err != nil {
		t.Fatal(err)
	}
	dc := c.(providers.DynamicClient)
	issue := func() providers.Lease {
		t.Helper()
		ds, err := dc.Generate(ctx, providers.DynamicRequest{Path: "pki-custody/issue/r", Method: "POST", Params: map[string]any{"common_name": "app"}})
		if err != nil {
			t.Fatal(err)
		}
		return ds.Lease
	}
	first := issue()
	if first.ID == "" || first.Token == "" {
		t.Fatalf("the lease names no owning token: %+v", first)
	}
	if kept.len() != 1 {
		t.Fatalf("the owning token was not in custody when the lease was issued")
	}

	time.Sleep(7 * time.Second) // more than twice the token's TTL
	if s, err := root.Logical().WriteWithContext(ctx, "sys/leases/lookup", map[string]any{"lease_id": first.ID}); err != nil || s == nil {
		t.Fatalf("the lease died with its token: %v", err)
	}
	if end, held := dc.TokenEnd(ctx, first.Token); !held || end.After(time.Now().Add(15*time.Second)) {
		t.Fatalf("TokenEnd = %v, %v; want held, ending within the max TTL", end, held)
	}

	// A restart: a new provider, nothing in memory, the same custody.
	c2, err := New(WithTokenCustody(kept)).NewClient(ctx, store, kube, "ns")
	if err != nil {
		t.Fatal(err)
	}
	if _, held := c2.(providers.DynamicClient).TokenEnd(ctx, first.Token); !held {
		t.Fatal("a new provider did not adopt the token kept in custody")
	}

	select {
	case s := <-ended:
		if s != "SecretStore/ns/VaultDynamicSecret/custody" {
			t.Fatalf("told about %q", s)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the token's max TTL was never reported")
	}
	end, held := dc.TokenEnd(ctx, first.Token)
	if !held || end.IsZero() {
		t.Fatalf("TokenEnd = %v, %v after the max TTL showed; want held with a known end", end, held)
	}
	if next := issue(); next.Token == first.Token {
		t.Fatal("a lease was issued under a token whose end is known")
	}
}

func TestKeeper_ANamespaceTakesAtMostItsShareOfTheRenewalSlots(t *testing.T) {
	k := &keeper{perNS: map[string]int{}}
	block := make(chan struct{})
	// Renewals that hang until released, as a tenant's server would.
	hang := func(ns string) bool {
		if !k.acquire(ns) {
			return false
		}
		k.wg.Go(func() { defer k.done(ns); <-block })
		return true
	}
	started := 0
	for range 100 {
		if hang("greedy") {
			started++
		}
	}
	if started != keepSlotsNamespace {
		t.Fatalf("one namespace started %d renewals, want %d", started, keepSlotsNamespace)
	}
	if !hang("other") || !hang("") {
		t.Fatal("another namespace, or a ClusterGenerator, found no slot")
	}
	close(block)
	k.wg.Wait()
	if k.busy != 0 || len(k.perNS) != 0 {
		t.Fatalf("slots not freed: %d busy, %v", k.busy, k.perNS)
	}
	for name, want := range map[string]string{
		"SecretStore/team-a/VaultDynamicSecret/db": "team-a",
		"ClusterSecretStore//ClusterGenerator/db":  "",
	} {
		if got := namespaceOf(name); got != want {
			t.Errorf("namespaceOf(%q) = %q, want %q", name, got, want)
		}
	}
}
