package vault

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// casStore returns a client of a root-token store with checkAndSet.required
// set as asked.
func casStore(t *testing.T, name string, required bool) providers.SecretsClient {
	t.Helper()
	rec := newRecorder(t)
	v := &v1alpha1.VaultProvider{Server: rec.URL, Version: v1alpha1.VaultKVStoreV2,
		Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "root", Key: "token"}}}
	if required {
		v.CheckAndSet = &v1alpha1.VaultCheckAndSet{Required: true}
	}
	store := &v1alpha1.SecretStore{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1},
		Spec:       v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: v}},
	}
	c, err := New().NewClient(context.Background(), store, secrets{"ns/root/token": server.Token}, "ns")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPush_CheckAndSetWritesOnAMountThatRequiresIt pushes to a KV v2 mount
// configured with cas_required: only a store with checkAndSet.required gets
// its creates, updates and property deletions through.
func TestPush_CheckAndSetWritesOnAMountThatRequiresIt(t *testing.T) {
	ctx := context.Background()
	mustSetUp(t, "sys/mounts/casreq", map[string]any{"type": "kv", "options": map[string]any{"version": "2"}})
	deadline := time.Now().Add(20 * time.Second)
	for { // the new mount is upgraded to KV v2 in the background
		root, err := server.Client()
		if err != nil {
			t.Fatal(err)
		}
		if _, err = root.Logical().WriteWithContext(ctx, "casreq/config", map[string]any{"cas_required": true}); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	owner := providers.PushRef{Key: "casreq/app", Owner: "ns/push", OwnerUID: "u1"}
	withProp := func(p string) providers.PushRef { r := owner; r.Property = p; return r }

	// A create is always a check-and-set write (version 0), so that two
	// creators of one path cannot both win; updates need checkAndSet.
	plain := casStore(t, "cas-off", false)
	plainRef := providers.PushRef{Key: "casreq/plain", Property: "a", Owner: "ns/plain", OwnerUID: "u2"}
	if _, err := plain.PushSecret(ctx, plainRef, []byte("v")); err != nil {
		t.Fatalf("a create without checkAndSet on a cas_required mount: %v", err)
	}
	plainRef.Property = "refused"
	if _, err := plain.PushSecret(ctx, plainRef, []byte("v")); err == nil || !strings.Contains(err.Error(), "check-and-set") {
		t.Fatalf("an update without checkAndSet to a cas_required mount: %v; want Vault's check-and-set refusal", err)
	}

	c := casStore(t, "cas-on", true)
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"create", func() error { _, err := c.PushSecret(ctx, withProp("a"), []byte("1")); return err }},
		{"add a property", func() error { _, err := c.PushSecret(ctx, withProp("b"), []byte("2")); return err }},
		{"update a property", func() error { _, err := c.PushSecret(ctx, withProp("a"), []byte("3")); return err }},
		{"delete a property", func() error { return c.DeleteSecret(ctx, withProp("b")) }},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s with checkAndSet: %v", step.name, err)
		}
	}
	data, custom := readRemote(t, "casreq", "app")
	if len(data) != 1 || data["a"] != "3" || custom[markerKey] != markerValue {
		t.Fatalf("remote data %v, custom metadata %v; want a=3 only, marked", data, custom)
	}
}
