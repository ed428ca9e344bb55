package vault

import (
	"context"
	"fmt"
	"maps"

	"github.com/baosync/baosync/providers"
)

// The marker External Secrets Operator puts on what it pushes: KV v2 custom
// metadata, and on KV v1 a custom_metadata property inside the data.
const (
	esoMarkerValue = "external-secrets"
	esoKV1Property = "custom_metadata"
)

// esoPushed reports whether custom metadata carries ESO's marker.
func esoPushed(custom map[string]any) bool {
	v, _ := custom[markerKey].(string)
	return v == esoMarkerValue
}

// adoptRefusal says why an ESO-pushed secret is not taken over through this
// client, or "" when it may be.
func (c *storeClient) adoptRefusal() string {
	if c.cluster {
		// ESO's marker names no owner: through a store shared by tenants, any
		// tenant could claim what ESO pushed for another.
		return "was pushed by External Secrets Operator, and baosync takes such secrets over only through a namespaced SecretStore " +
			"(ESO's marker names no owner that a shared ClusterSecretStore could check); push through a SecretStore, " +
			"or set its custom metadata managed-by=baosync and " + ownerKey + "=<namespace>/<PushSecret> by hand"
	}
	return ""
}

// adoptV2 takes over a KV v2 secret ESO pushed: its custom metadata keeps
// every key and gets baosync's marker and ref's owner in place of ESO's, in
// one write. It returns why the secret stays someone else's ("" once adopted).
func (c *storeClient) adoptV2(ctx context.Context, loc kvLocation, custom map[string]any, ref providers.PushRef) (string, error) {
	if why := c.adoptRefusal(); why != "" {
		return why, nil
	}
	next := maps.Clone(custom)
	next[markerKey], next[ownerKey], next[ownerUIDKey] = markerValue, ref.Owner, ref.OwnerUID
	if err := c.write(ctx, loc.metadataPath(), map[string]any{"custom_metadata": next}); err != nil {
		return "", fmt.Errorf("store %s: take over %s from External Secrets Operator: %w", c.name, ref.Key, err)
	}
	if ref.OnAdopt != nil {
		ref.OnAdopt()
	}
	return "", nil
}

// adoptV1 decides about an existing KV v1 secret this PushSecret did not
// create: one ESO pushed (its custom_metadata property holds ESO's marker) is
// taken over with ref.AdoptESO (unless ref.IfNotExists leaves it alone), its
// marker property dropped by the push's write, and reported as not existing,
// so that PushSecret writes it and the caller records it as created, which is
// how KV v1 secrets are known to be baosync's.
func (c *storeClient) adoptV1(loc kvLocation, current map[string]any, ref providers.PushRef) (kvLocation, map[string]any, bool, string, error) {
	marker, _ := current[esoKV1Property].(map[string]any)
	if !ref.AdoptESO || !esoPushed(marker) {
		return loc, current, true, "was not created by this PushSecret", nil
	}
	if why := c.adoptRefusal(); why != "" {
		return loc, current, true, why, nil
	}
	if ref.IfNotExists {
		return loc, current, true, "", nil // left as it is, so not taken over either
	}
	rest := maps.Clone(current)
	delete(rest, esoKV1Property)
	if ref.OnAdopt != nil {
		ref.OnAdopt()
	}
	return loc, rest, false, "", nil
}
