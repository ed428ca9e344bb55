package vault

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

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

// locate maps a remote key to its KV mount and path, with the checks that need
// no server: the key is a clean relative path (checkPath), and without a store
// path it does not start with a mount Vault reserves for itself. With a store
// path the key is relative to that mount (a key that repeats the mount is
// accepted, as in ESO); without one, the key's first segment is taken as the
// mount until the server says otherwise (see locateChecked). A key that names
// the mount may be written as the KV v2 API path (secret/data/app, see
// apiForm). It is pure, so that it can be fuzzed.
func locate(v *v1alpha1.VaultProvider, key string) (kvLocation, error) {
	mount, err := storeMount(v)
	if err != nil {
		return kvLocation{}, err
	}
	key = strings.Trim(key, "/")
	if err := checkPath(key); err != nil {
		return kvLocation{}, refErrorf("remote key %q %v; write it as a plain path such as app/db", key, err)
	}
	rel := key
	switch {
	case mount == "":
		m, r, ok := strings.Cut(key, "/")
		if !ok {
			return kvLocation{}, refErrorf("remote key %q must start with the KV mount (for example secret/app) because the store sets no path", key)
		}
		if reservedMount(m) {
			return kvLocation{}, refErrorf("remote key %q starts with %s/, which Vault keeps for itself and is no KV mount; name a KV mount such as secret/app", key, m)
		}
		mount, rel = m, apiForm(v, r)
	case strings.HasPrefix(key, mount+"/"):
		rel = apiForm(v, strings.TrimPrefix(key, mount+"/"))
	}
	return kvLocation{mount: mount, rel: rel, v1: v.Version == v1alpha1.VaultKVStoreV1}, nil
}

// apiForm drops the data/ segment that follows the mount when a KV v2 key is
// written as the API path (secret/data/app/db, as copied from Vault Agent, the
// CSI driver or curl): ESO reads such a key as secret/app/db, so baosync does
// too. rel is the key below the mount, and the rule applies only to keys that
// name the mount: with a store path, a key data/app is the secret data/app, as
// in ESO. A lone data (secret/data) stays the secret named data.
func apiForm(v *v1alpha1.VaultProvider, rel string) string {
	if v.Version == v1alpha1.VaultKVStoreV1 {
		return rel
	}
	if r, ok := strings.CutPrefix(rel, "data/"); ok && r != "" {
		return r
	}
	return rel
}

// storeMount returns the store's KV mount, "" when it sets no path. The path is
// the tenant's too: it gets the same checks as a key.
func storeMount(v *v1alpha1.VaultProvider) (string, error) {
	if v.Path == nil {
		return "", nil
	}
	mount := strings.Trim(*v.Path, "/")
	if v.Version != v1alpha1.VaultKVStoreV1 {
		// ESO accepted "secret/data" as a v2 path; the data segment is added by dataPath.
		mount = strings.TrimSuffix(mount, "/data")
	}
	if mount == "" {
		return "", nil
	}
	if err := checkPath(mount); err != nil {
		return "", fmt.Errorf("the store's path %q %v; set it to the KV mount, such as secret: %w", *v.Path, err, providers.ErrInvalidConfig) //nolint:errorlint // the class is the sentinel, not the cause
	}
	if first, _, _ := strings.Cut(mount, "/"); reservedMount(first) {
		return "", fmt.Errorf("the store's path %q is under %s/, which Vault keeps for itself and is no KV mount; set it to a KV mount such as secret: %w",
			*v.Path, first, providers.ErrInvalidConfig)
	}
	return mount, nil
}

// reservedMounts are the first path segments Vault and OpenBao keep for
// themselves (the router refuses to mount anything under them). None is a KV
// mount, and auth/, sys/ and identity/ answer with tokens, credentials and
// configuration: a key there would copy them into a tenant's Secret.
var reservedMounts = map[string]bool{"audit": true, "auth": true, "cubbyhole": true, "identity": true, "sys": true}

// reservedMount reports whether segment names a reserved mount. Paths are
// case-sensitive in Vault; comparing without case refuses a little more.
func reservedMount(segment string) bool { return reservedMounts[strings.ToLower(segment)] }

// checkPath refuses a path that could resolve outside the place it names: an
// empty one, one with a backslash or a control character, an empty, "." or
// ".." segment, or a segment that percent-decodes (even repeatedly) to one of
// those or to something holding "/" or "\". Its error says what is wrong, for
// the caller to wrap.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("is empty")
	case !utf8.ValidString(p):
		return errors.New("is not valid UTF-8")
	case strings.ContainsRune(p, '\\'):
		return errors.New("contains a backslash")
	case strings.ContainsFunc(p, unicode.IsControl):
		return errors.New("contains a control character")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" {
			return errors.New("has an empty segment (//)")
		}
		d, err := percentDecoded(seg)
		if err != nil {
			return err
		}
		switch {
		case d == "." || d == "..":
			return fmt.Errorf("has the segment %q, which would leave the path", seg)
		case strings.ContainsAny(d, "/\\") || strings.ContainsFunc(d, unicode.IsControl):
			return fmt.Errorf("has the segment %q, which decodes to a slash, backslash or control character", seg)
		}
	}
	return nil
}

// maxDecodeRounds bounds how often a segment is percent-decoded: a proxy or
// server on the way may decode once more than expected.
const maxDecodeRounds = 3

// percentDecoded decodes seg until it no longer changes.
func percentDecoded(seg string) (string, error) {
	for range maxDecodeRounds {
		d, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("has the segment %q with an invalid percent-escape", seg)
		}
		if d == seg {
			return d, nil
		}
		seg = d
	}
	return "", fmt.Errorf("has the segment %q, which is percent-encoded more than %d times", seg, maxDecodeRounds)
}

// refError is a remote key or find path that cannot be used as written. It is
// providers.ErrInvalidRef (the object's spec must change: Reason InvalidSpec)
// and providers.ErrInvalidConfig (for callers that know only that one).
type refError struct{ msg string }

// refErrorf returns a refError with a formatted message.
func refErrorf(format string, args ...any) error { return &refError{msg: fmt.Sprintf(format, args...)} }

func (e *refError) Error() string { return e.msg + ": " + providers.ErrInvalidRef.Error() }

// Is makes errors.Is hold for ErrInvalidRef and ErrInvalidConfig.
func (e *refError) Is(target error) bool {
	return target == providers.ErrInvalidRef || target == providers.ErrInvalidConfig
}

// KeyPath is where a remote key of a store with spec v lies, as the server
// names it: "<mount>/<path below the mount>" (on KV v2 without data/), or
// an error for a key that cannot be placed. Without a store path the mount
// is the key's first segment, which for a mount of several segments still
// gives the same full path. The change feed matches changes against it.
func KeyPath(v *v1alpha1.VaultProvider, key string) (string, error) {
	loc, err := locate(v, key)
	if err != nil {
		return "", err
	}
	return loc.mount + "/" + loc.rel, nil
}

// FindPath is where a dataFrom.find.path of a store with spec v lies, as
// KeyPath places keys; the mount itself when path is empty.
func FindPath(v *v1alpha1.VaultProvider, path string) (string, error) {
	mount, err := storeMount(v)
	if err != nil {
		return "", err
	}
	path = strings.Trim(path, "/")
	if path != "" {
		if err := checkPath(path); err != nil {
			return "", refErrorf("dataFrom.find.path %q %v", path, err)
		}
	}
	if mount == "" {
		m, rel, _ := strings.Cut(path, "/")
		if m == "" {
			return "", refErrorf("dataFrom.find.path must start with the KV mount because the store sets no path")
		}
		return strings.TrimSuffix(m+"/"+findForm(rel), "/"), nil
	}
	if path == mount || strings.HasPrefix(path, mount+"/") {
		path = strings.TrimPrefix(strings.TrimPrefix(path, mount), "/")
	}
	return strings.TrimSuffix(mount+"/"+findForm(path), "/"), nil
}
