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

// The custom-metadata marker on remote secrets baosync created.
const (
	markerKey   = "managed-by"
	markerValue = "baosync"
)

// PushSecret writes value into ref's property of a KV v2 secret. A new secret
// gets the marker first (so a failure between the two writes leaves a marked,
// empty secret, never an unmarked one); an existing one must carry it.
func (c *storeClient) PushSecret(ctx context.Context, ref providers.PushRef, value []byte, ifNotExists bool) error {
	dataPath, metaPath, err := c.pushPaths(ref)
	if err != nil {
		return err
	}
	exists, owned, err := c.ownership(ctx, metaPath)
	if err != nil {
		return err
	}
	switch {
	case exists && !owned:
		return fmt.Errorf("store %s: %s exists and was not created by baosync (no %s=%s custom metadata); it is left as it is: %w",
			c.name, ref.Key, markerKey, markerValue, providers.ErrNotOwned)
	case exists && ifNotExists:
		return nil
	case !exists:
		if err := c.write(ctx, metaPath, map[string]any{"custom_metadata": map[string]any{markerKey: markerValue}}); err != nil {
			return err
		}
	}
	current, err := c.readData(ctx, providers.RemoteRef{Key: ref.Key})
	if err != nil && !isNotFound(err) {
		return err
	}
	next := map[string]any{}
	for k, v := range current {
		next[k] = v
	}
	if s, ok := next[ref.Property].(string); ok && s == string(value) {
		return nil // already there: no new version
	}
	next[ref.Property] = string(value)
	return c.writeData(ctx, dataPath, next)
}

// DeleteSecret removes ref's property from a secret baosync created, and the
// secret (all versions and metadata) when nothing is left.
func (c *storeClient) DeleteSecret(ctx context.Context, ref providers.PushRef) error {
	dataPath, metaPath, err := c.pushPaths(ref)
	if err != nil {
		return err
	}
	exists, owned, err := c.ownership(ctx, metaPath)
	if err != nil || !exists {
		return err
	}
	if !owned {
		return fmt.Errorf("store %s: %s was not created by baosync; it is not deleted: %w", c.name, ref.Key, providers.ErrNotOwned)
	}
	current, err := c.readData(ctx, providers.RemoteRef{Key: ref.Key})
	if err != nil && !isNotFound(err) {
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
	_, err = c.call(ctx, "write", metaPath, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().DeleteWithContext(ctx, metaPath)
	})
	c.cache.drop(dataPath + "?version=")
	return err
}

// pushPaths returns the data and metadata paths of a KV v2 secret.
func (c *storeClient) pushPaths(ref providers.PushRef) (string, string, error) {
	if c.spec.Version == v1alpha1.VaultKVStoreV1 {
		return "", "", fmt.Errorf("store %s: PushSecret needs a KV v2 store (ownership is marked in custom metadata): %w", c.name, providers.ErrInvalidConfig)
	}
	if ref.Property == "" {
		return "", "", fmt.Errorf("store %s: a pushed value needs a property: %w", c.name, providers.ErrInvalidConfig)
	}
	dataPath, err := kvPath(c.spec, ref.Key)
	if err != nil {
		return "", "", err
	}
	return dataPath, strings.Replace(dataPath, "/data/", "/metadata/", 1), nil
}

// ownership reports whether the secret exists and carries baosync's marker.
func (c *storeClient) ownership(ctx context.Context, metaPath string) (exists, owned bool, err error) {
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

// writeData writes a KV v2 secret's data and forgets any cached read of it.
func (c *storeClient) writeData(ctx context.Context, dataPath string, data map[string]any) error {
	c.cache.drop(dataPath + "?version=")
	return c.write(ctx, dataPath, map[string]any{"data": data})
}

func (c *storeClient) write(ctx context.Context, path string, body map[string]any) error {
	_, err := c.call(ctx, "write", path, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().WriteWithContext(ctx, path, body)
	})
	return err
}

func isNotFound(err error) bool { return errors.Is(err, providers.ErrNotFound) }
