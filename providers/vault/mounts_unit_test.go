package vault

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

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
