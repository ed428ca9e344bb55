package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// readRemote reads a secret's data and custom metadata with the root token.
func readRemote(t *testing.T, mount, rel string) (data, custom map[string]any) {
	t.Helper()
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	sec, err := root.Logical().Read(mount + "/data/" + rel)
	if err != nil || sec == nil {
		t.Fatalf("read %s/%s: %v", mount, rel, err)
	}
	data, _ = sec.Data["data"].(map[string]any)
	meta, err := root.Logical().Read(mount + "/metadata/" + rel)
	if err != nil || meta == nil {
		t.Fatalf("read metadata of %s/%s: %v", mount, rel, err)
	}
	custom, _ = meta.Data["custom_metadata"].(map[string]any)
	return data, custom
}

func TestPush_NoPropertyMakesTheJSONValueTheWholeSecret(t *testing.T) {
	ctx := context.Background()
	c, _ := rootStore(t, "push-whole", nil, v1alpha1.VaultKVStoreV2, nil)
	ref := providers.PushRef{Key: "secret/pushwhole/app", Owner: "ns/whole", OwnerUID: "u1"}
	if _, err := c.PushSecret(ctx, ref, []byte(`{"user":"whole-user","port":5432}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PushSecret(ctx, providers.PushRef{Key: ref.Key, Property: "extra", Owner: ref.Owner, OwnerUID: ref.OwnerUID}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	// A second whole push replaces every property, the extra one too.
	if _, err := c.PushSecret(ctx, ref, []byte(`{"user":"whole-user-2","port":5432}`)); err != nil {
		t.Fatal(err)
	}
	data, custom := readRemote(t, "secret", "pushwhole/app")
	if len(data) != 2 || data["user"] != "whole-user-2" || data["port"] == nil || custom[markerKey] != markerValue {
		t.Fatalf("remote data %v, custom metadata %v", data, custom)
	}
	before, _ := readVersion(t, "secret", "pushwhole/app")
	if _, err := c.PushSecret(ctx, ref, []byte(`{"port":5432,"user":"whole-user-2"}`)); err != nil {
		t.Fatal(err)
	}
	if after, _ := readVersion(t, "secret", "pushwhole/app"); after != before {
		t.Fatalf("an unchanged whole push made version %s from %s", after, before)
	}
	for _, bad := range []string{"plain text", `["a"]`, "null", `{"a":1} {"b":2}`} {
		_, err := c.PushSecret(ctx, ref, []byte(bad))
		if !errors.Is(err, providers.ErrInvalidRef) || strings.Contains(err.Error(), bad) {
			t.Fatalf("push of a non-object: %v; want ErrInvalidRef without the value", err)
		}
	}
	// Deleting an entry without a property removes the whole secret.
	if err := c.DeleteSecret(ctx, ref); err != nil {
		t.Fatal(err)
	}
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	if sec, err := root.Logical().Read("secret/metadata/pushwhole/app"); err != nil || sec != nil {
		t.Fatalf("after DeleteSecret: %v, %v; want the secret gone", sec, err)
	}
}

// readVersion returns a KV v2 secret's current version.
func readVersion(t *testing.T, mount, rel string) (string, error) {
	t.Helper()
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := root.Logical().Read(mount + "/metadata/" + rel)
	if err != nil || meta == nil {
		t.Fatalf("read metadata of %s/%s: %v", mount, rel, err)
	}
	v, _ := meta.Data["current_version"].(interface{ String() string })
	if v == nil {
		return "", errors.New("no current_version")
	}
	return v.String(), nil
}

// clusterRootStore is rootStore as a ClusterSecretStore.
func clusterRootStore(t *testing.T, name string) providers.SecretsClient {
	t.Helper()
	ns := "ns"
	store := &v1alpha1.ClusterSecretStore{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: server.Addr, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "root", Key: "token", Namespace: &ns}},
		}}},
	}
	c, err := New().NewClient(context.Background(), store, secrets{"ns/root/token": server.Token}, "ns")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPush_AdoptsWhatESOPushedOnlyWhenAskedAndThroughASecretStore(t *testing.T) {
	ctx := context.Background()
	c, _ := rootStore(t, "adopt", nil, v1alpha1.VaultKVStoreV2, nil)
	cluster := clusterRootStore(t, "adopt-cluster")
	seed := func(rel string, custom map[string]any) {
		mustSetUp(t, "secret/metadata/adopt/"+rel, map[string]any{"custom_metadata": custom})
		mustSetUp(t, "secret/data/adopt/"+rel, map[string]any{"data": map[string]any{"k": "eso-value", "other": "kept"}})
	}
	eso := map[string]any{"managed-by": "external-secrets", "team": "blue"}
	seed("eso", eso)
	seed("eso-cluster", eso)
	seed("unmarked", map[string]any{"team": "blue"})
	seed("foreign", map[string]any{"managed-by": "someone-else"})
	seed("eso-no-optin", eso)
	cases := []struct {
		name  string
		c     providers.SecretsClient
		rel   string
		adopt bool
		hint  string // "" : adopted
	}{
		{name: "an ESO secret with the opt-in", c: c, rel: "eso", adopt: true},
		{name: "an ESO secret without the opt-in", c: c, rel: "eso-no-optin", hint: "was not created by baosync"},
		{name: "an ESO secret through a ClusterSecretStore", c: cluster, rel: "eso-cluster", adopt: true, hint: "only through a namespaced SecretStore"},
		{name: "a secret with no marker", c: c, rel: "unmarked", adopt: true, hint: "was not created by baosync"},
		{name: "a secret with another marker", c: c, rel: "foreign", adopt: true, hint: "was not created by baosync"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			adopted := 0
			ref := providers.PushRef{Key: "secret/adopt/" + tc.rel, Property: "k", Owner: "ns/adopter", OwnerUID: "u-adopter",
				AdoptESO: tc.adopt, OnAdopt: func() { adopted++ }}
			_, err := tc.c.PushSecret(ctx, ref, []byte("baosync-value"))
			data, custom := readRemote(t, "secret", "adopt/"+tc.rel)
			if tc.hint != "" {
				if !errors.Is(err, providers.ErrNotOwned) || !strings.Contains(err.Error(), tc.hint) || adopted != 0 || data["k"] != "eso-value" {
					t.Fatalf("got %v (adopted %d, data %v); want ErrNotOwned mentioning %q and the secret untouched", err, adopted, data, tc.hint)
				}
				return
			}
			if err != nil || adopted != 1 {
				t.Fatalf("push: %v, adopted %d times", err, adopted)
			}
			if data["k"] != "baosync-value" || data["other"] != "kept" || custom[markerKey] != markerValue ||
				custom[ownerKey] != "ns/adopter" || custom[ownerUIDKey] != "u-adopter" || custom["team"] != "blue" {
				t.Fatalf("after adoption data %v, custom metadata %v", data, custom)
			}
			// Once baosync's, the next push needs no adoption.
			if _, err := tc.c.PushSecret(ctx, ref, []byte("baosync-value-2")); err != nil || adopted != 1 {
				t.Fatalf("second push: %v, adopted %d times", err, adopted)
			}
		})
	}
}

func TestPush_AdoptsAKVv1SecretESOPushedAndDropsItsMarker(t *testing.T) {
	mustSetUp(t, "sys/mounts/kv1", map[string]any{"type": "kv", "options": map[string]any{"version": "1"}})
	mustSetUp(t, "kv1/adopt-eso", map[string]any{"k": "eso-value", "custom_metadata": map[string]any{"managed-by": "external-secrets"}})
	ctx := context.Background()
	kv1 := "kv1"
	c, _ := rootStore(t, "adopt-v1", &kv1, v1alpha1.VaultKVStoreV1, nil)
	ref := providers.PushRef{Key: "adopt-eso", Property: "k", Owner: "ns/adopter", OwnerUID: "u1"}
	if _, err := c.PushSecret(ctx, ref, []byte("baosync-value")); !errors.Is(err, providers.ErrNotOwned) {
		t.Fatalf("without the opt-in: %v, want ErrNotOwned", err)
	}
	adopted := 0
	ref.AdoptESO, ref.OnAdopt = true, func() { adopted++ }
	created, err := c.PushSecret(ctx, ref, []byte("baosync-value"))
	if err != nil || !created || adopted != 1 {
		t.Fatalf("push: created %v, %v, adopted %d; want created (recorded as the PushSecret's own)", created, err, adopted)
	}
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	sec, err := root.Logical().Read("kv1/adopt-eso")
	if err != nil || sec == nil || len(sec.Data) != 1 || sec.Data["k"] != "baosync-value" {
		t.Fatalf("remote after adoption: %v, %v; want only k, without ESO's marker", sec, err)
	}
}

// TestPush_OfTwoCreatorsOfOnePathExactlyOneWins is issue 21's race: two
// tenants of a shared store push to the same new path; both saw it missing.
// The create is a check-and-set 0 write: the second is refused and the path
// stays the first one's, data and owner.
func TestPush_OfTwoCreatorsOfOnePathExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	c, _ := rootStore(t, "push-race", nil, v1alpha1.VaultKVStoreV2, nil)
	h := c.(*handle)
	loc, err := h.locateChecked(ctx, "secret/pushrace/app")
	if err != nil {
		t.Fatal(err)
	}
	first := providers.PushRef{Key: "secret/pushrace/app", Property: "pw", Owner: "tenant-a/push", OwnerUID: "ua"}
	second := providers.PushRef{Key: first.Key, Property: "pw", Owner: "tenant-b/push", OwnerUID: "ub"}
	if err := h.create(ctx, loc, first, map[string]any{"pw": "from-a"}); err != nil {
		t.Fatal(err)
	}
	err = h.create(ctx, loc, second, map[string]any{"pw": "from-b"})
	if !errors.Is(err, providers.ErrNotOwned) || strings.Contains(err.Error(), "from-") {
		t.Fatalf("the second creator: %v; want ErrNotOwned without a value", err)
	}
	data, custom := readRemote(t, "secret", "pushrace/app")
	if data["pw"] != "from-a" || custom[ownerKey] != first.Owner {
		t.Fatalf("remote data %v, owner %v; want tenant A's", data, custom[ownerKey])
	}
}
