package vault

import (
	"net/url"
	"strings"
	"testing"

	"github.com/baosync/baosync/api/v1alpha1"
)

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

// FuzzLocate_StaysInsideMount checks that every key locate accepts leads below
// its mount, through segments that are neither empty, "." nor "..", even after
// percent-decoding, and that without a store path it never names a reserved
// mount.
func FuzzLocate_StaysInsideMount(f *testing.F) {
	for _, s := range []string{"app", "secret/app", "/a//b/", "../x", "", "%2e%2e/x", "a/%252e%252e", "sys/x", "a\\b", "secret/data/x", ".%2E/y", "a%2Fb"} {
		f.Add(s)
	}
	secret, nested := "secret/data", "team/a/kv"
	stores := []*v1alpha1.VaultProvider{
		{Version: v1alpha1.VaultKVStoreV2},
		{Path: &secret, Version: v1alpha1.VaultKVStoreV2},
		{Path: &nested, Version: v1alpha1.VaultKVStoreV1},
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, v := range stores {
			loc, err := locate(v, key)
			if err != nil {
				continue
			}
			dp := loc.dataPath()
			if loc.mount == "" || !strings.HasPrefix(dp, loc.mount+"/") || len(dp) == len(loc.mount)+1 {
				t.Fatalf("locate(%q) = %q, not below the mount %q", key, dp, loc.mount)
			}
			if v.Path == nil && reservedMount(loc.mount) {
				t.Fatalf("locate(%q) = %q, in a reserved mount", key, dp)
			}
			for _, seg := range strings.Split(dp, "/") {
				for range maxDecodeRounds + 1 {
					if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\") {
						t.Fatalf("locate(%q) = %q, with the segment %q", key, dp, seg)
					}
					d, err := url.PathUnescape(seg)
					if err != nil {
						t.Fatalf("locate(%q) = %q, with an invalid escape in %q", key, dp, seg)
					}
					seg = d
				}
			}
		}
	})
}
