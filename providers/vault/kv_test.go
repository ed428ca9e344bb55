package vault

import (
	"errors"
	"testing"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

func TestKVPath(t *testing.T) {
	secret, data, empty := "secret", "secret/data", ""
	cases := []struct {
		name    string
		path    *string
		version v1alpha1.VaultKVStoreVersion
		key     string
		want    string
		invalid bool
	}{
		{name: "v2 inserts data/ after the store path", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "app/db", want: "secret/data/app/db"},
		{name: "v2 accepts a key that repeats the mount", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "secret/app", want: "secret/data/app"},
		{name: "v2 accepts an ESO-style path ending in /data", path: &data, version: v1alpha1.VaultKVStoreV2, key: "app", want: "secret/data/app"},
		{name: "v1 reads the key under the mount", path: &secret, version: v1alpha1.VaultKVStoreV1, key: "app", want: "secret/app"},
		{name: "without a path the key names the mount", version: v1alpha1.VaultKVStoreV2, key: "kv/app", want: "kv/data/app"},
		{name: "an empty path behaves like none", path: &empty, version: v1alpha1.VaultKVStoreV2, key: "kv/app", want: "kv/data/app"},
		{name: "without a path a single segment is refused", version: v1alpha1.VaultKVStoreV2, key: "app", invalid: true},
		{name: "dot-dot segments are refused", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "../sys/x", invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kvPath(&v1alpha1.VaultProvider{Path: tc.path, Version: tc.version}, tc.key)
			if tc.invalid {
				if !errors.Is(err, providers.ErrInvalidConfig) {
					t.Fatalf("want ErrInvalidConfig, got %v (%q)", err, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("kvPath(%q) = %q, %v; want %q", tc.key, got, err, tc.want)
			}
		})
	}
}

func TestProperty(t *testing.T) {
	data := map[string]any{"a.b": "dotted", "a": map[string]any{"b": "nested", "n": 5}, "list": []any{"x", "y"}}
	cases := []struct {
		prop, want string
		missing    bool
	}{
		{prop: "a.b", want: "dotted"},
		{prop: "a.n", want: "5"},
		{prop: "a", want: `{"b":"nested","n":5}`},
		{prop: "list.1", want: "y"},
		{prop: "nope", missing: true},
		{prop: "a.zzz", missing: true},
	}
	for _, tc := range cases {
		t.Run(tc.prop, func(t *testing.T) {
			got, err := property(data, tc.prop)
			if tc.missing {
				if !errors.Is(err, providers.ErrPropertyNotFound) {
					t.Fatalf("want ErrPropertyNotFound, got %v", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("property(%q) = %q, %v; want %q", tc.prop, got, err, tc.want)
			}
		})
	}
}

func FuzzProperty(f *testing.F) {
	for _, s := range []string{"a.b", "a", "list.#", "a|@reverse", "..", "a.*", `a\.b`} {
		f.Add(s)
	}
	data := map[string]any{"a": map[string]any{"b": "x"}, "list": []any{1, 2}}
	f.Fuzz(func(t *testing.T, prop string) {
		_, _ = property(data, prop) // must never panic
	})
}

func FuzzKVPath(f *testing.F) {
	for _, s := range []string{"app", "secret/app", "/a//b/", "../x", ""} {
		f.Add(s)
	}
	secret := "secret"
	f.Fuzz(func(t *testing.T, key string) {
		_, _ = kvPath(&v1alpha1.VaultProvider{Path: &secret}, key)
		_, _ = kvPath(&v1alpha1.VaultProvider{}, key)
	})
}
