package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

// The custom-metadata marker on KV v2 secrets baosync created, with the
// object that created them: only that object may update or delete them, so
// tenants sharing a ClusterSecretStore cannot overwrite each other's secrets.
const (
	markerKey   = "managed-by"
	markerValue = "baosync"
	ownerKey    = "baosync-owner"
	ownerUIDKey = "baosync-owner-uid"
)

// PushSecret writes value into ref's property or, with no property, makes
// value (a JSON object) the whole remote secret, as ESO does. A new KV v2
// secret is created with check-and-set 0, so that of two objects (two tenants
// of a shared store) racing to create the same path exactly one does, and the
// other is refused (ErrNotOwned); the creator then marks it as its own. A
// failure between the two writes leaves an unmarked secret, which every
// object refuses until an admin marks it. An existing one must carry the
// marker (or ESO's, with ref.AdoptESO, see adopt). A KV v1 secret has no
// metadata: an existing one is baosync's only if ref.Owned.
func (c *storeClient) PushSecret(ctx context.Context, ref providers.PushRef, value []byte) (bool, error) {
	var whole map[string]any
	if ref.Property == "" {
		var err error
		if whole, err = jsonObject(value); err != nil {
			return false, fmt.Errorf("store %s, remote key %q: %w", c.name, ref.Key, err)
		}
	}
	loc, current, exists, owned, err := c.pushTarget(ctx, ref)
	if err != nil {
		return false, err
	}
	switch {
	case exists && owned != "":
		return false, fmt.Errorf("store %s: %s exists and %s; it is left as it is: %w", c.name, ref.Key, owned, providers.ErrNotOwned)
	case exists && ref.IfNotExists:
		return false, nil
	case !exists && !loc.v1:
		data, _ := pushedData(nil, ref.Property, value, whole)
		return true, c.create(ctx, loc, ref, data)
	}
	next, changed := pushedData(current, ref.Property, value, whole)
	if !changed && exists {
		return false, nil // already there: no new version
	}
	return !exists, c.writeData(ctx, loc, next)
}

// pushedData is the remote secret's data after a push, and whether it differs
// from current: the whole secret, or current with one property set.
func pushedData(current map[string]any, prop string, value []byte, whole map[string]any) (map[string]any, bool) {
	if prop == "" {
		a, errA := json.Marshal(current)
		b, errB := json.Marshal(whole)
		return whole, current == nil || errA != nil || errB != nil || !bytes.Equal(a, b)
	}
	if s, ok := current[prop].(string); ok && s == string(value) {
		return current, false
	}
	next := map[string]any{prop: string(value)}
	for k, v := range current {
		if k != prop {
			next[k] = v
		}
	}
	return next, true
}

// jsonObject decodes a value pushed as a whole secret. Its error never quotes
// the value.
func jsonObject(value []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(value))
	d.UseNumber() // numbers keep their spelling, so an unchanged value compares equal
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil || d.More() {
		return nil, fmt.Errorf("with no remoteRef.property the pushed value becomes the whole remote secret, as in ESO, "+
			"so it must be a JSON object, which it is not; set remoteRef.property to push it as one property: %w", providers.ErrInvalidRef)
	}
	return m, nil
}

// DeleteSecret removes ref's property from a secret baosync created, and the
// secret (for KV v2 all versions and metadata) when nothing is left.
func (c *storeClient) DeleteSecret(ctx context.Context, ref providers.PushRef) error {
	ref.AdoptESO = false // a deletion never takes over what ESO pushed
	loc, current, exists, owned, err := c.pushTarget(ctx, ref)
	if err != nil || !exists {
		return err
	}
	if owned != "" {
		return fmt.Errorf("store %s: %s %s; it is not deleted: %w", c.name, ref.Key, owned, providers.ErrNotOwned)
	}
	next := map[string]any{}
	for k, v := range current {
		if ref.Property != "" && k != ref.Property { // no property: the whole secret goes
			next[k] = v
		}
	}
	if len(next) > 0 {
		return c.writeData(ctx, loc, next)
	}
	whole := loc.dataPath()
	if !loc.v1 {
		whole = loc.metadataPath() // deletes every version and the metadata
	}
	_, err = c.call(ctx, "write", whole, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().DeleteWithContext(ctx, whole)
	})
	c.cache.drop(readKey(loc.dataPath(), ""))
	return err
}

// pushTarget locates ref's secret, reads its current data once (nil when there
// is none), and says whether it exists and, when it is not ref.Owner's, why
// (notMine is empty for a secret ref.Owner may change): KV v2 secrets carry the
// marker and owner, KV v1 secrets are the caller's when ref.Owned says so.
func (c *storeClient) pushTarget(ctx context.Context, ref providers.PushRef) (loc kvLocation, current map[string]any, exists bool, notMine string, err error) {
	if loc, err = c.locateChecked(ctx, ref.Key); err != nil {
		return loc, nil, false, "", err
	}
	current, err = c.readData(ctx, providers.RemoteRef{Key: ref.Key})
	if err != nil && !errors.Is(err, providers.ErrNotFound) {
		return loc, nil, false, "", err
	}
	if loc.v1 {
		if current != nil && !ref.Owned {
			return c.adoptV1(loc, current, ref)
		}
		if current != nil && c.cluster {
			// KV v1 has no metadata for an owner, and the PushSecret's own status
			// is no proof across tenants sharing a ClusterSecretStore.
			return loc, current, true, "is a KV v1 secret, which cannot record its owner; through a ClusterSecretStore baosync only creates KV v1 secrets, never updates or deletes them", nil
		}
		return loc, current, current != nil, "", nil
	}
	sec, err := c.call(ctx, "read", loc.metadataPath(), func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ReadWithContext(ctx, loc.metadataPath())
	})
	if err != nil || sec == nil || sec.Data == nil {
		return loc, current, false, "", err
	}
	custom, _ := sec.Data["custom_metadata"].(map[string]any)
	notMine = ownership(custom, ref.Owner, ref.OwnerUID)
	if notMine != "" && ref.AdoptESO && esoPushed(custom) {
		notMine, err = c.adoptV2(ctx, loc, custom, ref)
	}
	return loc, current, true, notMine, err
}

// ownership says why a KV v2 secret with this custom metadata is not owner's
// to change, or "" when it is.
func ownership(custom map[string]any, owner, uid string) string {
	marker, _ := custom[markerKey].(string)
	recorded, _ := custom[ownerKey].(string)
	recordedUID, _ := custom[ownerUIDKey].(string)
	switch {
	case marker != markerValue:
		return "was not created by baosync"
	case recorded == "":
		return fmt.Sprintf("was created by baosync without an owner record; to hand it to this PushSecret, set its custom metadata %s=%s", ownerKey, owner)
	case recorded != owner:
		return "belongs to another PushSecret" // whose name is another tenant's business
	case recordedUID != "" && uid != "" && recordedUID != uid:
		// Same namespace and name, another object: the namespace may have been
		// deleted and created again by someone else.
		return fmt.Sprintf("was pushed by an earlier PushSecret of the same name (UID %s); to hand it to this one, set its custom metadata %s=%s", recordedUID, ownerUIDKey, uid)
	}
	return ""
}

// writeData writes a secret's data (wrapped for KV v2, as a check-and-set
// write when the store asks for it) and forgets any cached read of it.
func (c *storeClient) writeData(ctx context.Context, loc kvLocation, data map[string]any) error {
	c.cache.drop(readKey(loc.dataPath(), ""))
	if loc.v1 {
		return c.write(ctx, loc.dataPath(), data)
	}
	body := map[string]any{"data": data}
	if cas := c.spec.CheckAndSet; cas != nil && cas.Required {
		version, err := c.currentVersion(ctx, loc)
		if err != nil {
			return err
		}
		body["options"] = map[string]any{"cas": version}
	}
	return c.write(ctx, loc.dataPath(), body)
}

// create writes a new KV v2 secret only if none exists (check-and-set 0),
// then marks it as ref's.
func (c *storeClient) create(ctx context.Context, loc kvLocation, ref providers.PushRef, data map[string]any) error {
	c.cache.drop(readKey(loc.dataPath(), ""))
	err := c.write(ctx, loc.dataPath(), map[string]any{"data": data, "options": map[string]any{"cas": 0}})
	if errors.Is(err, providers.ErrInvalidConfig) && strings.Contains(err.Error(), "check-and-set") {
		return fmt.Errorf("store %s: %s was created by another writer at the same time; it is left as it is: %w", c.name, ref.Key, providers.ErrNotOwned)
	}
	if err != nil {
		return err
	}
	marker := map[string]any{markerKey: markerValue, ownerKey: ref.Owner, ownerUIDKey: ref.OwnerUID}
	return c.write(ctx, loc.metadataPath(), map[string]any{"custom_metadata": marker})
}

func (c *storeClient) write(ctx context.Context, path string, body map[string]any) error {
	_, err := c.call(ctx, "write", path, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().WriteWithContext(ctx, path, body)
	})
	return err
}
