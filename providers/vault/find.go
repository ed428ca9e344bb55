package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// Bounds of one find, so that a broad search cannot run away.
const (
	maxFound = 1000
	// maxFoundBytes bounds what one find holds: more could never fit in a
	// Secret (1 MiB), and a tenant's server must not make it hold gigabytes.
	maxFoundBytes = 2 << 20
	maxFindDeep   = 16
)

// GetAllSecrets lists the KV v2 mount under ref.Path (recursively), keeps the
// secrets whose path matches ref.Name and whose custom metadata holds ref.Tags,
// and returns each one's data as JSON, keyed by its path below the mount.
func (c *storeClient) GetAllSecrets(ctx context.Context, ref providers.FindRef) (map[string][]byte, error) {
	if c.spec.Version == v1alpha1.VaultKVStoreV1 {
		return nil, fmt.Errorf("store %s: dataFrom.find needs a KV v2 store (it lists secrets through their metadata): %w", c.name, providers.ErrInvalidConfig)
	}
	mount, prefix, err := c.findRoot(ctx, ref.Path)
	if err != nil {
		return nil, err
	}
	var keys []string
	if err := c.listTree(ctx, mount, prefix, 0, &keys); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	total := 0
	for _, key := range keys {
		if ref.Name != nil && !ref.Name.MatchString(key) {
			continue
		}
		if len(ref.Tags) > 0 {
			ok, err := c.hasTags(ctx, mount, key, ref.Tags)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		data, err := c.readData(ctx, providers.RemoteRef{Key: mount + "/" + key, MaxAge: ref.MaxAge})
		if err != nil {
			return nil, err
		}
		if out[key], err = json.Marshal(data); err != nil {
			return nil, fmt.Errorf("encode %s as JSON: %w", key, err)
		}
		if total += len(out[key]); total > maxFoundBytes {
			return nil, fmt.Errorf("store %s: find found more than %d bytes, more than a Secret can hold; narrow find.path, name or tags: %w", c.name, maxFoundBytes, providers.ErrInvalidRef)
		}
	}
	return out, nil
}

// findRoot splits the search root into its KV v2 mount and the path below it.
// The root gets a key's checks: a clean path (checkPath) in a KV mount the
// server confirms; without a store path, that mount may span several segments.
func (c *storeClient) findRoot(ctx context.Context, path string) (string, string, error) {
	path = strings.Trim(path, "/")
	if path != "" {
		if err := checkPath(path); err != nil {
			return "", "", c.unproven("dataFrom.find.path", path, refErrorf("dataFrom.find.path %q %v; write it as a plain path such as secret/team", path, err))
		}
	}
	mount, err := storeMount(c.spec)
	if err != nil {
		return "", "", err
	}
	if mount != "" {
		if path == mount || strings.HasPrefix(path, mount+"/") { // the root may repeat the mount
			path = findForm(strings.TrimPrefix(strings.TrimPrefix(path, mount), "/"))
		}
		if path == "" {
			path = c.reach // a shared store's namespace searches its own part only
		}
		if err := c.within("dataFrom.find.path", path, true); err != nil {
			return "", "", err
		}
		if _, err := c.storeKV(ctx, mount); err != nil {
			return "", "", err
		}
		return mount, path, nil
	}
	first, _, _ := strings.Cut(path, "/")
	switch {
	case path == "":
		return "", "", refErrorf("dataFrom.find.path must start with the KV mount because the store sets no path")
	case reservedMount(first):
		return "", "", refErrorf("dataFrom.find.path %q starts with %s/, which Vault keeps for itself and is no KV mount; name a KV mount such as secret/team", path, first)
	}
	m, err := c.keyKV(ctx, path, "dataFrom.find.path")
	if err != nil {
		return "", "", err
	}
	return m.path, findForm(strings.TrimPrefix(strings.TrimPrefix(path, m.path), "/")), nil
}

// findForm drops the data/ segment of a search root written as the KV v2 API
// path below its mount (secret/data/team, or secret/data for the whole mount),
// as ESO, which lists <mount>/metadata/ for it, does.
func findForm(rel string) string {
	if rel == "data" {
		return ""
	}
	return strings.TrimPrefix(rel, "data/")
}

// listTree appends the secret paths below prefix (relative to the mount).
func (c *storeClient) listTree(ctx context.Context, mount, prefix string, depth int, keys *[]string) error {
	if depth > maxFindDeep {
		return fmt.Errorf("store %s: find under %q goes deeper than %d levels; narrow find.path: %w", c.name, prefix, maxFindDeep, providers.ErrInvalidConfig)
	}
	listPath := kvLocation{mount: mount, rel: prefix}.metadataPath()
	sec, err := c.call(ctx, "list", listPath, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ListWithContext(ctx, listPath)
	})
	if err != nil || sec == nil {
		return err // nil answer: nothing under prefix
	}
	entries, _ := sec.Data["keys"].([]any)
	for _, e := range entries {
		name, _ := e.(string)
		full := strings.TrimPrefix(strings.TrimSuffix(prefix, "/")+"/"+name, "/")
		if err := checkPath(strings.TrimSuffix(full, "/")); err != nil {
			// Each entry becomes a path that is listed or read in turn.
			return fmt.Errorf("store %s: the server listed %q under %s, which %v: %w", c.name, serverText([]string{name}), mount, err, providers.ErrInvalidConfig) //nolint:errorlint // the class is the sentinel, not the cause
		}
		if strings.HasSuffix(name, "/") {
			if err := c.listTree(ctx, mount, full, depth+1, keys); err != nil {
				return err
			}
			continue
		}
		if len(*keys) >= maxFound {
			return fmt.Errorf("store %s: find matched more than %d secrets; narrow find.path, name or tags: %w", c.name, maxFound, providers.ErrInvalidConfig)
		}
		*keys = append(*keys, full)
	}
	return nil
}

// hasTags reports whether the secret's custom metadata holds every tag.
func (c *storeClient) hasTags(ctx context.Context, mount, key string, tags map[string]string) (bool, error) {
	metaPath := kvLocation{mount: mount, rel: key}.metadataPath()
	sec, err := c.call(ctx, "read", metaPath, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ReadWithContext(ctx, metaPath)
	})
	if err != nil || sec == nil {
		return false, err
	}
	custom, _ := sec.Data["custom_metadata"].(map[string]any)
	for k, want := range tags {
		if got, ok := custom[k].(string); !ok || got != want {
			return false, nil
		}
	}
	return true, nil
}
