package vault

import (
	"fmt"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// kvPath maps a remote key to the API path of the KV engine. With a store path
// the key is relative to that mount (a key that repeats the mount is accepted,
// as in ESO); without one, the key's first segment is the mount. KV v2 reads go
// to <mount>/data/<key>.
func kvPath(v *v1alpha1.VaultProvider, key string) (string, error) {
	key = strings.Trim(key, "/")
	mount := ""
	if v.Path != nil {
		mount = strings.Trim(*v.Path, "/")
	}
	if v.Version != v1alpha1.VaultKVStoreV1 {
		// ESO accepted "secret/data" as a v2 path; the data segment is added below.
		mount = strings.TrimSuffix(mount, "/data")
	}
	rel := key
	switch {
	case mount == "":
		m, r, ok := strings.Cut(key, "/")
		if !ok || m == "" || r == "" {
			return "", fmt.Errorf("remote key %q must start with the KV mount (for example secret/app) because the store sets no path: %w", key, providers.ErrInvalidConfig)
		}
		mount, rel = m, r
	case strings.HasPrefix(key, mount+"/"):
		rel = strings.TrimPrefix(key, mount+"/")
	}
	if rel == "" || strings.Contains(rel, "..") {
		return "", fmt.Errorf("remote key %q is not a valid secret path: %w", key, providers.ErrInvalidConfig)
	}
	if v.Version == v1alpha1.VaultKVStoreV1 {
		return mount + "/" + rel, nil
	}
	return mount + "/data/" + rel, nil
}
