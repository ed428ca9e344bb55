package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openbao/openbao/api/v2"
	"github.com/tidwall/gjson"

	"github.com/baosync/baosync/providers"
)

// GetSecret returns one property of a remote secret, or the whole secret as
// JSON when no property is asked for.
func (c *storeClient) GetSecret(ctx context.Context, ref providers.RemoteRef) ([]byte, error) {
	data, err := c.readData(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref.Property == "" {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("encode %s as JSON: %w", ref, err)
		}
		return b, nil
	}
	v, err := property(data, ref.Property)
	if err != nil {
		return nil, fmt.Errorf("store %s, key %q: %w", c.name, ref.Key, err)
	}
	return v, nil
}

// GetSecretMap returns every top-level property of the remote secret (or of the
// object at ref.Property) as bytes; values that are not strings become JSON.
func (c *storeClient) GetSecretMap(ctx context.Context, ref providers.RemoteRef) (map[string][]byte, error) {
	data, err := c.readData(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref.Property != "" {
		raw, err := property(data, ref.Property)
		if err != nil {
			return nil, fmt.Errorf("store %s, key %q: %w", c.name, ref.Key, err)
		}
		var nested map[string]any
		if err := json.Unmarshal(raw, &nested); err != nil {
			return nil, fmt.Errorf("store %s, key %q: property %q is not an object: %w", c.name, ref.Key, ref.Property, providers.ErrPropertyNotFound)
		}
		data = nested
	}
	out := make(map[string][]byte, len(data))
	for k, v := range data {
		b, err := valueBytes(v)
		if err != nil {
			return nil, fmt.Errorf("store %s, key %q: encode property %q: %w", c.name, ref.Key, k, err)
		}
		out[k] = b
	}
	return out, nil
}

// readData reads the secret's data map (or, with ref.Metadata, its custom
// metadata). The key must lead into a KV mount (locateChecked). Identical
// reads in flight share one request to the server.
func (c *storeClient) readData(ctx context.Context, ref providers.RemoteRef) (map[string]any, error) {
	loc, err := c.locateChecked(ctx, ref.Key)
	if err != nil {
		return nil, err
	}
	path, v2 := loc.dataPath(), !loc.v1
	if ref.Metadata {
		if !v2 {
			return nil, fmt.Errorf("store %s: metadataPolicy Fetch needs KV v2: %w", c.name, providers.ErrInvalidConfig)
		}
		return c.readMetadata(ctx, loc.metadataPath(), ref)
	}
	query := map[string][]string{}
	if ref.Version != "" && v2 {
		query["version"] = []string{ref.Version}
	}
	key := readKey(path, ref.Version)
	maxAge := min(ref.MaxAge, c.opts.maxReadAge)
	if data, ok := c.cache.get(key, maxAge, c.opts.now()); ok {
		c.observe("read", "cached")
		return data, nil
	}
	var data map[string]any
	var started time.Time // when the request that answered began: a change during it may not be in it
	res, err := c.shared(ctx, &c.reads, key, func(ctx context.Context) (any, error) {
		at := c.opts.now()
		sec, err := c.call(ctx, "read", path, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
			return cl.Logical().ReadWithDataWithContext(ctx, path, query)
		})
		return timedRead{sec: sec, started: at}, err
	})
	if tr, ok := res.(timedRead); ok {
		res, started = tr.sec, tr.started
	}
	if err == nil && maxAge > 0 && c.opts.now().Sub(started) > maxAge {
		// A request already under way when this one came began too early for
		// it (a change since then must be seen): ask again.
		fresh := ref
		fresh.MaxAge = 0
		return c.readData(ctx, fresh)
	}
	if err == nil {
		data, err = c.secretData(res, path, ref, v2)
	}
	if err != nil {
		if errors.Is(err, providers.ErrNotFound) {
			c.cache.drop(key) // an older read must not outlive the server's "gone"
		}
		return nil, err
	}
	if ref.MaxAge > 0 { // nobody asked to share this read
		c.cache.put(key, data, started, c.opts.maxReadAge)
	}
	return data, nil
}

// timedRead is a read's answer with when its request began.
type timedRead struct {
	sec     *api.Secret
	started time.Time
}

// secretData takes the data map out of a read's answer.
func (c *storeClient) secretData(res any, path string, ref providers.RemoteRef, v2 bool) (map[string]any, error) {
	sec, _ := res.(*api.Secret)
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("store %s: nothing at %s (key %q): %w", c.name, path, ref.String(), providers.ErrNotFound)
	}
	if !v2 {
		return sec.Data, nil
	}
	data, ok := sec.Data["data"].(map[string]any)
	if !ok {
		// A deleted or destroyed KV v2 version answers with metadata only.
		return nil, fmt.Errorf("store %s: no data at %s (key %q; deleted or destroyed version?): %w", c.name, path, ref.String(), providers.ErrNotFound)
	}
	return data, nil
}

// property returns one property of data: a top-level key as it is (keys may
// contain dots), otherwise a gjson path into nested values.
func property(data map[string]any, prop string) ([]byte, error) {
	if v, ok := data[prop]; ok {
		return valueBytes(v)
	}
	doc, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode secret as JSON: %w", err)
	}
	r := gjson.GetBytes(doc, prop)
	if !r.Exists() {
		return nil, fmt.Errorf("property %q: %w", prop, providers.ErrPropertyNotFound)
	}
	if r.Type == gjson.String {
		return []byte(r.Str), nil
	}
	return []byte(r.Raw), nil
}

// valueBytes writes strings as they are and everything else as JSON.
func valueBytes(v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return []byte(t), nil
	case nil:
		return []byte{}, nil
	}
	return json.Marshal(v)
}

// metadataKeys are the KV v2 metadata fields that metadataPolicy Fetch
// exposes beside the custom metadata: ESO's choice, so that the same manifest
// gives the same Secret (dataFrom.extract with Fetch yields exactly these keys
// plus the custom ones).
var metadataKeys = []string{"created_time", "current_version", "delete_version_after"}

// readMetadata reads a KV v2 secret's metadata as ESO shows it with
// metadataPolicy Fetch: one flat map of strings holding metadataKeys and every
// custom metadata key (which wins over a field of the same name), values that
// are not strings written in Go's %v form.
func (c *storeClient) readMetadata(ctx context.Context, path string, ref providers.RemoteRef) (map[string]any, error) {
	sec, err := c.call(ctx, "read", path, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ReadWithContext(ctx, path)
	})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("store %s: no metadata at %s (key %q): %w", c.name, path, ref.Key, providers.ErrNotFound)
	}
	return flatMetadata(sec.Data), nil
}

// flatMetadata turns the answer of <mount>/metadata/<path> into readMetadata's
// map.
func flatMetadata(data map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range metadataKeys {
		if v, ok := data[k]; ok && v != nil {
			out[k] = fmt.Sprintf("%v", v)
		}
	}
	custom, _ := data["custom_metadata"].(map[string]any)
	for k, v := range custom {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			out[k] = fmt.Sprintf("%v", v)
		}
	}
	return out
}
