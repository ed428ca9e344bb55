package vault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/openbao/openbao/api/v2"
)

// currentVersion is a KV v2 secret's current version from its metadata, 0 for
// a secret that has none yet: the cas value that lets a write through only
// if nobody wrote in between.
func (c *storeClient) currentVersion(ctx context.Context, loc kvLocation) (int64, error) {
	sec, err := c.call(ctx, "read", loc.metadataPath(), func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ReadWithContext(ctx, loc.metadataPath())
	})
	if err != nil || sec == nil || sec.Data == nil {
		return 0, err
	}
	switch v := sec.Data["current_version"].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, fmt.Errorf("store %s: metadata of %s: current_version %q is not a number", c.name, loc.metadataPath(), v)
		}
		return n, nil
	case float64:
		return int64(v), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("store %s: metadata of %s: current_version is not a number", c.name, loc.metadataPath())
}
