package vault

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// TestKeyForms_TheKVv2APIPathReadsPushesAndFindsTheSameSecret writes one
// secret and reaches it through every key form ESO accepts, with and without a
// store path, against the real server.
func TestKeyForms_TheKVv2APIPathReadsPushesAndFindsTheSameSecret(t *testing.T) {
	mustSetUp(t, "secret/data/keyforms/db", map[string]any{"data": map[string]any{"user": "keyforms-user"}})
	ctx := context.Background()
	secret := "secret"
	bare, _ := rootStore(t, "keyforms-bare", nil, v1alpha1.VaultKVStoreV2, nil)
	withPath, _ := rootStore(t, "keyforms-path", &secret, v1alpha1.VaultKVStoreV2, nil)
	reads := []struct {
		name string
		c    providers.SecretsClient
		key  string
	}{
		{name: "mount and path without store path", c: bare, key: "secret/keyforms/db"},
		{name: "API path without store path", c: bare, key: "secret/data/keyforms/db"},
		{name: "path below the store path", c: withPath, key: "keyforms/db"},
		{name: "mount and path with store path", c: withPath, key: "secret/keyforms/db"},
		{name: "API path with store path", c: withPath, key: "secret/data/keyforms/db"},
	}
	for _, tc := range reads {
		t.Run("read "+tc.name, func(t *testing.T) {
			v, err := tc.c.GetSecret(ctx, providers.RemoteRef{Key: tc.key, Property: "user"})
			if err != nil || string(v) != "keyforms-user" {
				t.Fatalf("GetSecret(%q) = %q, %v", tc.key, v, err)
			}
		})
	}
	t.Run("push to the API path writes below the mount", func(t *testing.T) {
		ref := providers.PushRef{Key: "secret/data/keyforms/pushed", Property: "p", Owner: "ns/keyforms", OwnerUID: "u1"}
		if _, err := bare.PushSecret(ctx, ref, []byte("pushed-value")); err != nil {
			t.Fatal(err)
		}
		v, err := withPath.GetSecret(ctx, providers.RemoteRef{Key: "keyforms/pushed", Property: "p"})
		if err != nil || string(v) != "pushed-value" {
			t.Fatalf("read back = %q, %v", v, err)
		}
	})
	for _, tc := range []struct {
		name string
		c    providers.SecretsClient
		path string
	}{
		{name: "without store path", c: bare, path: "secret/data/keyforms"},
		{name: "with store path", c: withPath, path: "secret/data/keyforms"},
	} {
		t.Run("find under the API path "+tc.name, func(t *testing.T) {
			found, err := tc.c.GetAllSecrets(ctx, providers.FindRef{Path: tc.path})
			if err != nil || string(found["keyforms/db"]) != `{"user":"keyforms-user"}` {
				t.Fatalf("find %q = %q, %v", tc.path, found, err)
			}
		})
	}
}

// TestMetadataFetch_ExposesESOsKeysAndTheCustomMetadata reads a secret's
// metadata as metadataPolicy Fetch does, whole and by property.
func TestMetadataFetch_ExposesESOsKeysAndTheCustomMetadata(t *testing.T) {
	mustSetUp(t, "secret/data/fetchmeta", map[string]any{"data": map[string]any{"k": "v"}})
	mustSetUp(t, "secret/data/fetchmeta", map[string]any{"data": map[string]any{"k": "v2"}})
	mustSetUp(t, "secret/metadata/fetchmeta", map[string]any{"custom_metadata": map[string]any{"team": "blue"}})
	ctx := context.Background()
	c, _ := rootStore(t, "fetchmeta", nil, v1alpha1.VaultKVStoreV2, nil)
	whole, err := c.GetSecret(ctx, providers.RemoteRef{Key: "secret/fetchmeta", Metadata: true})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(whole, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"created_time", "current_version", "delete_version_after", "team"}
	if len(got) != len(want) {
		t.Fatalf("Fetch gave the keys %v, want exactly %v", got, want)
	}
	for _, k := range want {
		if _, ok := got[k].(string); !ok {
			t.Fatalf("Fetch gave %v: %s is missing or not a string", got, k)
		}
	}
	if got["current_version"] != "2" || got["team"] != "blue" || got["delete_version_after"] != "0s" {
		t.Fatalf("Fetch gave %v", got)
	}
	for prop, want := range map[string]string{"current_version": "2", "team": "blue"} {
		v, err := c.GetSecret(ctx, providers.RemoteRef{Key: "secret/data/fetchmeta", Property: prop, Metadata: true})
		if err != nil || string(v) != want {
			t.Fatalf("Fetch property %s = %q, %v; want %q", prop, v, err, want)
		}
	}
	m, err := c.GetSecretMap(ctx, providers.RemoteRef{Key: "secret/fetchmeta", Metadata: true})
	if err != nil || string(m["current_version"]) != "2" || len(m) != 4 {
		t.Fatalf("Fetch as a map = %q, %v", m, err)
	}
}
