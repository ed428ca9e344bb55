package esoconvert

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// The conversion edits the parsed YAML tree in place rather than re-encoding
// a Go value, so that comments, key order and the user's own spelling of
// values ("1h" stays "1h", quotes stay) survive, and the Git diff of a
// migration shows only what had to change.

// step is one element of a field path: a mapping key, or an index when key
// is empty.
type step struct {
	key   string
	index int
}

// fieldPath is a path into an object, e.g. spec.data[0].remoteRef.
type fieldPath []step

func (p fieldPath) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.key == "" {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// child returns p extended by a key (a copy: paths are shared by callers).
func (p fieldPath) child(key string) fieldPath {
	return append(append(fieldPath{}, p...), step{key: key})
}

// item returns p extended by an index.
func (p fieldPath) item(i int) fieldPath {
	return append(append(fieldPath{}, p...), step{index: i})
}

// path builds a path of keys.
func path(keys ...string) fieldPath {
	p := make(fieldPath, len(keys))
	for i, k := range keys {
		p[i] = step{key: k}
	}
	return p
}

// lookup returns the value node of key in mapping m, and its key node.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// at follows p from n; nil when a step is missing.
func at(n *yaml.Node, p fieldPath) *yaml.Node {
	for _, s := range p {
		if n == nil {
			return nil
		}
		if s.key != "" {
			_, n = lookup(n, s.key)
			continue
		}
		if n.Kind != yaml.SequenceNode || s.index >= len(n.Content) {
			return nil
		}
		n = n.Content[s.index]
	}
	return n
}

// remove deletes the last key of p from its mapping; it reports whether
// there was one.
func remove(root *yaml.Node, p fieldPath) bool {
	if len(p) == 0 || p[len(p)-1].key == "" {
		return false
	}
	m := at(root, p[:len(p)-1])
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	key := p[len(p)-1].key
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return true
		}
	}
	return false
}

// rename changes the key of p's last step to newKey, keeping the value,
// its place and its comments. It refuses when newKey exists already.
func rename(root *yaml.Node, p fieldPath, newKey string) bool {
	parent := at(root, p[:len(p)-1])
	k, _ := lookup(parent, p[len(p)-1].key)
	if k == nil {
		return false
	}
	if existing, _ := lookup(parent, newKey); existing != nil {
		return false
	}
	k.Value = newKey
	return true
}

// scalarString returns the value of a scalar node, or "".
func scalarString(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// prune removes, below n, the mappings and sequences that the conversion
// emptied (touched holds them), and list entries that became empty, so the
// output keeps no `{}` the user did not write. It reports whether n itself
// is now an emptied collection.
func prune(n *yaml.Node, touched map[*yaml.Node]bool) bool {
	switch n.Kind {
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if prune(n.Content[i+1], touched) {
				touched[n] = true
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	case yaml.SequenceNode:
		kept := n.Content[:0]
		for _, e := range n.Content {
			if prune(e, touched) {
				touched[n] = true
				continue
			}
			kept = append(kept, e)
		}
		n.Content = kept
	default:
		return false
	}
	return touched[n] && len(n.Content) == 0
}
