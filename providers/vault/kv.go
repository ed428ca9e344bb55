package vault

import (
	"fmt"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// kvLocation is where a remote secret lives: the KV mount and the path below it.
type kvLocation struct {
	mount, rel string
	v1         bool
}

// dataPath is the API path of the secret's data (<mount>/data/<rel> on KV v2).
func (l kvLocation) dataPath() string {
	if l.v1 {
		return l.mount + "/" + l.rel
	}
	return l.mount + "/data/" + l.rel
}

// metadataPath is the API path of the secret's KV v2 metadata ("" on KV v1).
func (l kvLocation) metadataPath() string {
	if l.v1 {
		return ""
	}
	return l.mount + "/metadata/" + l.rel
}

// readKey names a read of dataPath at version, for the read cache and the
// coalescing of reads in flight.
func readKey(dataPath, version string) string { return dataPath + "?version=" + version }

// kvPath maps a remote key to the API path of its data.
func kvPath(v *v1alpha1.VaultProvider, key string) (string, error) {
	loc, err := locate(v, key)
	return loc.dataPath(), err
}

// locate maps a remote key to its KV mount and path. With a store path the key
// is relative to that mount (a key that repeats the mount is accepted, as in
// ESO); without one, the key's first segment is the mount.
func locate(v *v1alpha1.VaultProvider, key string) (kvLocation, error) {
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
			return kvLocation{}, fmt.Errorf("remote key %q must start with the KV mount (for example secret/app) because the store sets no path: %w", key, providers.ErrInvalidConfig)
		}
		mount, rel = m, r
	case strings.HasPrefix(key, mount+"/"):
		rel = strings.TrimPrefix(key, mount+"/")
	}
	if rel == "" || strings.Contains(rel, "..") {
		return kvLocation{}, fmt.Errorf("remote key %q is not a valid secret path: %w", key, providers.ErrInvalidConfig)
	}
	return kvLocation{mount: mount, rel: rel, v1: v.Version == v1alpha1.VaultKVStoreV1}, nil
}
