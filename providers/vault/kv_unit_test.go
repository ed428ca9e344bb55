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
		{name: "a key equal to the mount is a secret below it, as before", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "secret", want: "secret/data/secret"},
		{name: "a key that only shares the mount's prefix stays below the mount", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "secretive/app", want: "secret/data/secretive/app"},
		{name: "v2 without a path reads the API form of a key as ESO does", version: v1alpha1.VaultKVStoreV2, key: "secret/data/app/db", want: "secret/data/app/db"},
		{name: "v2 with a path reads the API form of a key that names the mount", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "secret/data/app/db", want: "secret/data/app/db"},
		{name: "v2 with a path ending in /data reads the API form too", path: &data, version: v1alpha1.VaultKVStoreV2, key: "secret/data/app", want: "secret/data/app"},
		{name: "v2 with a path keeps data/ of a key that does not name the mount, as ESO", path: &secret, version: v1alpha1.VaultKVStoreV2, key: "data/app", want: "secret/data/data/app"},
		{name: "v2 keeps a secret named data", version: v1alpha1.VaultKVStoreV2, key: "secret/data", want: "secret/data/data"},
		{name: "v2 drops only one data segment", version: v1alpha1.VaultKVStoreV2, key: "secret/data/data/x", want: "secret/data/data/x"},
		{name: "v1 keeps data/ as a folder", path: &secret, version: v1alpha1.VaultKVStoreV1, key: "secret/data/app", want: "secret/data/app"},
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

func TestLocate_RefusesKeysThatLeaveTheMount(t *testing.T) {
	secret, authToken, sys, dotdot := "secret", "auth/token", "sys", "secret/.."
	cases := []struct {
		name string
		path *string
		key  string
		// storeFault: the store's path is refused (ErrInvalidConfig only),
		// otherwise the key is (ErrInvalidRef as well).
		storeFault bool
	}{
		{name: "empty", key: ""},
		{name: "only slashes", key: "///"},
		{name: "dot-dot", path: &secret, key: ".."},
		{name: "dot-dot in the middle", key: "secret/../sys/mounts"},
		{name: "dot", key: "secret/./app"},
		{name: "encoded dot-dot", key: "secret/%2e%2e/auth/token/lookup-self"},
		{name: "encoded dot-dot in upper case", path: &secret, key: "%2E%2E/x"},
		{name: "double-encoded dot-dot", path: &secret, key: "a/%252e%252e/x"},
		{name: "half-encoded dot-dot", path: &secret, key: ".%2e/x"},
		{name: "encoded slash", key: "secret/a%2F..%2Fb"},
		{name: "encoded backslash", path: &secret, key: "a%5Cb"},
		{name: "invalid escape", path: &secret, key: "a%zzb"},
		{name: "double slash", key: "secret//app"},
		{name: "backslash", path: &secret, key: `a\..\b`},
		{name: "NUL", path: &secret, key: "a\x00b"},
		{name: "newline", path: &secret, key: "a\nb"},
		{name: "DEL", path: &secret, key: "a\x7fb"},
		{name: "encoded newline", path: &secret, key: "a%0Ab"},
		{name: "invalid UTF-8", path: &secret, key: "a\xffb"},
		{name: "the token's lookup-self", key: "auth/token/lookup-self"},
		{name: "sys", key: "sys/mounts"},
		{name: "sys in upper case", key: "SYS/mounts"},
		{name: "cubbyhole", key: "cubbyhole/x"},
		{name: "identity", key: "identity/entity/name/x"},
		{name: "audit", key: "audit/file"},
		{name: "a single segment without store path", key: "app"},
		{name: "a store path under auth", path: &authToken, key: "lookup-self", storeFault: true},
		{name: "a store path at sys", path: &sys, key: "mounts", storeFault: true},
		{name: "a store path with dot-dot", path: &dotdot, key: "sys/mounts", storeFault: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := locate(&v1alpha1.VaultProvider{Path: tc.path, Version: v1alpha1.VaultKVStoreV2}, tc.key)
			if !errors.Is(err, providers.ErrInvalidConfig) {
				t.Fatalf("locate(%q) = %q, %v; want ErrInvalidConfig", tc.key, loc.dataPath(), err)
			}
			if errors.Is(err, providers.ErrInvalidRef) == tc.storeFault {
				t.Fatalf("ErrInvalidRef is %v for %v; the key is at fault: %v", !tc.storeFault, err, !tc.storeFault)
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
