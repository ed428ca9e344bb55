package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openbao/openbao/api/v2"
	"golang.org/x/sync/singleflight"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// Bounds of the mount cache of one store's client.
const (
	// mountTTL is how long the server's description of a mount is trusted; a
	// remount (another engine or KV version at the same path) is noticed after it.
	mountTTL = 10 * time.Minute
	// maxCachedMounts bounds the cache; a server has few mounts, and a cache
	// that grows past this starts over.
	maxCachedMounts = 256
)

// mountInfo is the server's description of the mount that holds a path.
type mountInfo struct {
	path string // without slashes at either end, e.g. team/a/kv
	kind string // the engine: kv, generic, transit, …
	v1   bool   // a KV mount without options.version 2
	at   time.Time
}

// holds reports whether p is the mount's path or below it.
func (m mountInfo) holds(p string) bool { return p == m.path || strings.HasPrefix(p, m.path+"/") }

// isKV reports whether the mount is a KV engine (generic is KV v1's old name).
func (m mountInfo) isKV() bool { return m.kind == "kv" || m.kind == "generic" }

// version names the mount's KV version for messages.
func (m mountInfo) version() v1alpha1.VaultKVStoreVersion { return kvVersion(m.v1) }

// kvVersion names a KV version (a store's empty version means v2).
func kvVersion(v1 bool) v1alpha1.VaultKVStoreVersion {
	if v1 {
		return v1alpha1.VaultKVStoreV1
	}
	return v1alpha1.VaultKVStoreV2
}

// mountCache keeps one store client's mount descriptions by mount path and
// coalesces the lookups in flight.
type mountCache struct {
	mu     sync.Mutex
	byPath map[string]mountInfo
	flight singleflight.Group
}

// lookup returns the fresh description of the mount holding p.
func (mc *mountCache) lookup(p string, now time.Time) (mountInfo, bool) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	// Mounts do not nest, so at most one holds p; p's prefixes are few.
	for cand := p; cand != ""; {
		if m, ok := mc.byPath[cand]; ok && now.Sub(m.at) < mountTTL {
			return m, true
		}
		i := strings.LastIndexByte(cand, '/')
		if i < 0 {
			break
		}
		cand = cand[:i]
	}
	return mountInfo{}, false
}

// put stores m.
func (mc *mountCache) put(m mountInfo) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if mc.byPath == nil || len(mc.byPath) >= maxCachedMounts {
		mc.byPath = map[string]mountInfo{}
	}
	mc.byPath[m.path] = m
}

// mounts returns c's mount cache.
func (c *storeClient) mounts() *mountCache { return &c.mountInfo }

// mountOf returns the mount that holds p, from the cache or from the server's
// sys/internal/ui/mounts/<p>, which the default policy allows for any mount the
// token may use. Lookups in flight are coalesced by p's first segment (all
// paths of a mount share it); when the answer does not hold p (another mount
// with the same first segment), p is looked up on its own.
func (c *storeClient) mountOf(ctx context.Context, p string) (mountInfo, error) {
	mc := c.mounts()
	if m, ok := mc.lookup(p, c.opts.now()); ok {
		return m, nil
	}
	first, _, _ := strings.Cut(p, "/")
	groups := []string{first}
	if p != first {
		groups = append(groups, p)
	}
	var m mountInfo
	for _, group := range groups {
		res, err := c.shared(ctx, &mc.flight, group, func(ctx context.Context) (any, error) {
			if done, ok := mc.lookup(p, c.opts.now()); ok { // a lookup that just ended
				return done, nil
			}
			return c.lookupMount(ctx, mc, p)
		})
		if err != nil {
			return mountInfo{}, err
		}
		if m = res.(mountInfo); m.holds(p) {
			return m, nil
		}
	}
	return mountInfo{}, fmt.Errorf("store %s: the server described the mount %q for %q, which does not hold it: %w", c.name, m.path, p, providers.ErrUnavailable)
}

// lookupMount asks the server for the mount that holds p and caches it.
func (c *storeClient) lookupMount(ctx context.Context, mc *mountCache, p string) (mountInfo, error) {
	apiPath := "sys/internal/ui/mounts/" + p
	sec, err := c.call(ctx, "mounts", apiPath, func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().ReadWithContext(ctx, apiPath)
	})
	switch {
	case errors.Is(err, providers.ErrNotFound):
		// Never ErrNotFound: that may delete a target Secret (deletionPolicy).
		return mountInfo{}, fmt.Errorf("could not check that %q is in a KV mount, so it is not used: %v: %w", p, err, providers.ErrUnavailable) //nolint:errorlint // the class is the sentinel, not the cause
	case errors.Is(err, providers.ErrPermissionDenied):
		// Vault answers 403 for a path in no mount too, so that mounts cannot be probed.
		return mountInfo{}, fmt.Errorf("could not check that %q is in a KV mount (does the mount exist, and does the token's policy allow it?), so it is not used: %w", p, err)
	case err != nil:
		return mountInfo{}, fmt.Errorf("could not check that %q is in a KV mount, so it is not used: %w", p, err)
	}
	m, err := parseMount(sec, c.opts.now())
	if err != nil {
		return mountInfo{}, fmt.Errorf("store %s: could not check that %q is in a KV mount, so it is not used: %w", c.name, p, err)
	}
	mc.put(m)
	return m, nil
}

// parseMount reads the answer of sys/internal/ui/mounts. Nothing (a 404) means
// the server does not describe mounts; baosync then refuses to guess.
func parseMount(sec *api.Secret, at time.Time) (mountInfo, error) {
	if sec == nil || sec.Data == nil {
		return mountInfo{}, fmt.Errorf("the server did not describe the mount (no sys/internal/ui/mounts): %w", providers.ErrInvalidConfig)
	}
	p, _ := sec.Data["path"].(string)
	kind, _ := sec.Data["type"].(string)
	opts, _ := sec.Data["options"].(map[string]any)
	version, _ := opts["version"].(string)
	m := mountInfo{path: strings.Trim(p, "/"), kind: kind, v1: version != "2", at: at}
	if m.path == "" || checkPath(m.path) != nil {
		return mountInfo{}, fmt.Errorf("the server described a mount with the path %q: %w", p, providers.ErrUnavailable)
	}
	return m, nil
}

// locateChecked is locate plus the server's word on the mount: the secret must
// be in a KV mount of the store's version. Without a store path the mount is
// the one the server names, so it may span several segments (team/a/kv).
func (c *storeClient) locateChecked(ctx context.Context, key string) (kvLocation, error) {
	loc, err := locate(c.spec, key)
	if err != nil {
		return loc, c.unproven("remote key", key, err)
	}
	if mount, _ := storeMount(c.spec); mount != "" {
		if err := c.within("remote key", loc.rel, false); err != nil {
			return kvLocation{}, err
		}
		_, err := c.storeKV(ctx, mount)
		return loc, err
	}
	// The key as written, not loc's guess: with the API form the data/ segment
	// follows the real mount, which may span several segments (team/a/kv/data/app).
	full := strings.Trim(key, "/")
	m, err := c.keyKV(ctx, full, "remote key")
	if err != nil {
		return kvLocation{}, err
	}
	if full == m.path {
		return kvLocation{}, refErrorf("remote key %q names the KV mount %s itself; name a secret in it, such as %s/app", key, m.path, m.path)
	}
	return kvLocation{mount: m.path, rel: apiForm(c.spec, strings.TrimPrefix(full, m.path+"/")), v1: loc.v1}, nil
}

// storeKV checks that the store's path is a KV mount of the store's version.
// A KV v2 path must be the mount itself (its data lives under <mount>/data/); a
// KV v1 path may lie below the mount.
func (c *storeClient) storeKV(ctx context.Context, mount string) (mountInfo, error) {
	m, err := c.mountOf(ctx, mount)
	if err != nil {
		return m, err
	}
	v1 := c.spec.Version == v1alpha1.VaultKVStoreV1
	switch {
	case !m.isKV():
		return m, fmt.Errorf("store %s: the store's path %q is in the %s mount %s, not in a KV mount; set it to a KV mount: %w", c.name, mount, m.kind, m.path, providers.ErrInvalidConfig)
	case m.v1 != v1:
		return m, fmt.Errorf("store %s: the KV mount %s is version %s but the store says version %s; set the store's version to %s: %w",
			c.name, m.path, m.version(), kvVersion(v1), m.version(), providers.ErrInvalidConfig)
	case !v1 && m.path != mount:
		return m, fmt.Errorf("store %s: the store's path %q lies inside the KV v2 mount %s; set path to %s: %w", c.name, mount, m.path, m.path, providers.ErrInvalidConfig)
	}
	return m, nil
}

// keyKV checks that the mount holding p (chosen by an object's key or find
// path, named by what) is a KV mount of the store's version.
func (c *storeClient) keyKV(ctx context.Context, p, what string) (mountInfo, error) {
	m, err := c.mountOf(ctx, p)
	if err != nil {
		return m, err
	}
	v1 := c.spec.Version == v1alpha1.VaultKVStoreV1
	switch {
	case !m.isKV():
		return m, refErrorf("store %s: %s %q is in the %s mount %s, not in a KV mount; name a KV mount such as secret/app", c.name, what, p, m.kind, m.path)
	case m.v1 != v1:
		return m, refErrorf("store %s: %s %q is in the KV mount %s of version %s, but the store says version %s; use a store of version %s or a mount of version %s",
			c.name, what, p, m.path, m.version(), kvVersion(v1), m.version(), kvVersion(v1))
	}
	return m, nil
}
