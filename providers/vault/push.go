package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// The custom-metadata marker on KV v2 secrets baosync created.
const (
	markerKey   = "managed-by"
	markerValue = "baosync"
)

// PushSecret writes value into ref's property. A new KV v2 secret gets the
// marker first (so a failure between the two writes leaves a marked, empty
// secret, never an unmarked one); an existing one must carry it. A KV v1
// secret has no metadata: an existing one is baosync's only if ref.Owned.
func (c *storeClient) PushSecret(ctx context.Context, ref providers.PushRef, value []byte) (bool, error) {
	dataPath, metaPath, err := c.pushPaths(ref)
	if err != nil {
		return false, err
	}
	exists, owned, err := c.ownership(ctx, ref, dataPath, metaPath)
	if err != nil {
		return false, err
	}
	switch {
	case exists && !owned:
		return false, fmt.Errorf("store %s: %s exists and was not created by baosync; it is left as it is: %w", c.name, ref.Key, providers.ErrNotOwned)
	case exists && ref.IfNotExists:
		return false, nil
	case !exists && metaPath != "":
		if err := c.write(ctx, metaPath, map[string]any{"custom_metadata": map[string]any{markerKey: markerValue}}); err != nil {
			return false, err
		}
	}
	current, err := c.readData(ctx, providers.RemoteRef{Key: ref.Key})
	if err != nil && !errors.Is(err, providers.ErrNotFound) {
		return false, err
	}
	if s, ok := current[ref.Property].(string); ok && s == string(value) {
		return !exists, nil // already there: no new version
	}
	next := map[string]any{ref.Property: string(value)}
	for k, v := range current {
		if k != ref.Property {
			next[k] = v
		}
	}
	return !exists, c.writeData(ctx, dataPath, next)
}

// DeleteSecret removes ref's property from a secret baosync created, and the
// secret (for KV v2 all versions and metadata) when nothing is left.
func (c *storeClient) DeleteSecret(ctx context.Context, ref providers.PushRef) error {
	dataPath, metaPath, err := c.pushPaths(ref)
	if err != nil {
		return err
	}
	exists, owned, err := c.ownership(ctx, ref, dataPath, metaPath)
	if err != nil || !exists {
		return err
	}
	if !owned {
		return fmt.Errorf("store %s: %s was not created by baosync; it is not deleted: %w", c.name, ref.Key, providers.ErrNotOwned)
	}
	current, err := c.readData(ctx, providers.RemoteRef{Key: ref.Key})
	if err != nil && !errors.Is(err, providers.ErrNotFound) {
		return err
	}
	next := map[string]any{}
	for k, v := range current {
		if k != ref.Property {
			next[k] = v
		}
	}
	if len(next) > 0 {
		return c.writeData(ctx, dataPath, next)
	}
	whole := dataPath
	if metaPath != "" {
		whole = metaPath // deletes every version and the metadata
	}
	_, err = c.call(ctx, "write", whole, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().DeleteWithContext(ctx, whole)
	})
	c.cache.drop(dataPath + "?version=")
	return err
}

// pushPaths returns the data path and, for KV v2, the metadata path.
func (c *storeClient) pushPaths(ref providers.PushRef) (string, string, error) {
	if ref.Property == "" {
		return "", "", fmt.Errorf("store %s: a pushed value needs a property: %w", c.name, providers.ErrInvalidConfig)
	}
	dataPath, err := kvPath(c.spec, ref.Key)
	if err != nil {
		return "", "", err
	}
	if c.spec.Version == v1alpha1.VaultKVStoreV1 {
		return dataPath, "", nil
	}
	return dataPath, strings.Replace(dataPath, "/data/", "/metadata/", 1), nil
}

// ownership reports whether the secret exists and is baosync's: by its KV v2
// marker, or for KV v1 by the caller's record.
func (c *storeClient) ownership(ctx context.Context, ref providers.PushRef, dataPath, metaPath string) (exists, owned bool, err error) {
	if metaPath == "" {
		_, err := c.readData(ctx, providers.RemoteRef{Key: ref.Key})
		if errors.Is(err, providers.ErrNotFound) {
			return false, false, nil
		}
		return err == nil, ref.Owned, err
	}
	sec, err := c.call(ctx, "read", metaPath, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ReadWithContext(ctx, metaPath)
	})
	if err != nil || sec == nil || sec.Data == nil {
		return false, false, err
	}
	custom, _ := sec.Data["custom_metadata"].(map[string]any)
	v, _ := custom[markerKey].(string)
	return true, v == markerValue, nil
}

// writeData writes a secret's data (wrapped for KV v2) and forgets any cached
// read of it.
func (c *storeClient) writeData(ctx context.Context, dataPath string, data map[string]any) error {
	c.cache.drop(dataPath + "?version=")
	if c.spec.Version == v1alpha1.VaultKVStoreV1 {
		return c.write(ctx, dataPath, data)
	}
	return c.write(ctx, dataPath, map[string]any{"data": data})
}

func (c *storeClient) write(ctx context.Context, path string, body map[string]any) error {
	_, err := c.call(ctx, "write", path, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().WriteWithContext(ctx, path, body)
	})
	return err
}
