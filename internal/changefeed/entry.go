// Package changefeed turns the audit stream of an OpenBao or Vault server (its
// `socket` audit device, writing one JSON entry per line to the operator) into
// "this KV path changed". It reads an entry's type, operation, namespace,
// mount and path only, never a value (the server HMACs them anyway), and it
// can only make the operator read sooner: a change carries no value, and the
// reads it causes go through the stores' own rules.
package changefeed

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Change is a write to a KV path, as one server's audit stream reported it.
type Change struct {
	// Namespace is the OpenBao/Vault namespace path ("" for the root), or
	// UnknownNamespace when the entry names only a namespace ID.
	Namespace string
	// Mount is the mount point without slashes, e.g. "secret" or "team/kv".
	Mount string
	// Path is the request path below the mount, e.g. "data/app/db".
	Path string
	// Operation is the request's operation (create, update, patch, delete).
	Operation string
	// At is when the server logged the entry (its clock); Received is when
	// the operator read it (its own).
	At, Received time.Time
}

// UnknownNamespace marks a change whose namespace path the entry does not give.
const UnknownNamespace = "?"

// Full is the change's path with its mount, e.g. "secret/data/app/db".
func (c Change) Full() string { return c.Mount + "/" + c.Path }

// entry is the part of an audit entry the feed reads.
type entry struct {
	Type    string `json:"type"`
	Time    string `json:"time"`
	Error   string `json:"error"`
	Request struct {
		Operation  string `json:"operation"`
		MountPoint string `json:"mount_point"`
		MountType  string `json:"mount_type"`
		Path       string `json:"path"`
		Namespace  struct {
			ID   string `json:"id"`
			Path string `json:"path"`
		} `json:"namespace"`
	} `json:"request"`
}

// Reasons a line is dropped, as the metrics name them.
const (
	dropMalformed   = "malformed"
	dropOversized   = "oversized"
	dropUnknown     = "unknown_stream"
	dropRateLimited = "rate_limited"
	dropIgnored     = "not_a_kv_write"
)

var errNotAWrite = errors.New("not a successful write to a KV mount")

// writeOps are the operations that change a KV path: a write, a patch, a
// delete, and on KV v2 also delete/, undelete/, destroy/ and metadata/
// requests, which are updates and deletes of other paths of the mount.
var writeOps = map[string]bool{"create": true, "update": true, "patch": true, "delete": true}

// splitLine separates a line into its prefix (the stream's token, as the audit
// device's prefix option writes it) and the JSON entry that follows.
func splitLine(line []byte) (token, body []byte, ok bool) {
	i := bytes.IndexByte(line, '{')
	if i < 0 {
		return nil, nil, false
	}
	return bytes.TrimSpace(line[:i]), line[i:], true
}

// parse reads one entry and returns the change it reports: only the response
// of a successful create, update, patch or delete on a KV mount is one.
func parse(body []byte, received time.Time) (Change, error) {
	var e entry
	if err := json.Unmarshal(body, &e); err != nil {
		return Change{}, err
	}
	r := e.Request
	if e.Type != "response" || e.Error != "" || !writeOps[r.Operation] || (r.MountType != "kv" && r.MountType != "generic") {
		return Change{}, errNotAWrite
	}
	mount := strings.Trim(r.MountPoint, "/")
	rel, ok := strings.CutPrefix(r.Path, r.MountPoint)
	if mount == "" || !ok || rel == "" {
		return Change{}, errNotAWrite
	}
	c := Change{Mount: mount, Path: strings.Trim(rel, "/"), Operation: r.Operation, Received: received, Namespace: strings.Trim(r.Namespace.Path, "/")}
	if c.Namespace == "" && r.Namespace.ID != "" && r.Namespace.ID != "root" {
		c.Namespace = UnknownNamespace
	}
	c.At, _ = time.Parse(time.RFC3339Nano, e.Time)
	return c, nil
}

// KVKeys are the keys a change may have touched, as a store's remote keys
// name them below the mount: on KV v2 the path after its data/, metadata/,
// delete/, undelete/ or destroy/ segment, on KV v1 the path itself. The feed
// does not know the mount's version; a store matches the form of its own.
func (c Change) KVKeys() (v2, v1 string) {
	v1 = c.Path
	if first, rest, ok := strings.Cut(c.Path, "/"); ok {
		switch first {
		case "data", "metadata", "delete", "undelete", "destroy":
			return rest, v1
		}
	}
	return "", v1
}
