package intern

import (
	"slices"
	"strconv"
)

// Maps hands out one copy of each small map it has seen, for the maps many
// cached objects hold with the same entries: the label baosync.io/managed on
// every managed Secret, the Helm or kustomize labels on every ExternalSecret
// of a release. A Go map of even one entry costs about 300 bytes, so at
// 100,000 Secrets one shared map saves 30 MB.
//
// A map the table hands out is shared by every object that holds it: no
// caller may change it. The informer cache honours this, as its readers get
// deep copies and its event handlers only read; and the table itself never
// writes into a map it is given.
//
// Like Table, it is bounded and starts over when full.
type Maps struct {
	maps    *bounded[map[string]string]
	strings *Table
}

// maxSharedMapSize is the most entries a map may have to be shared; larger
// ones are an object's own and stay so (their strings are still shared).
const maxSharedMapSize = 8

// NewMaps returns a table of at most maxEntries maps whose strings are shared
// through strings.
func NewMaps(maxEntries int, strings *Table) *Maps {
	return &Maps{maps: newBounded[map[string]string](maxEntries), strings: strings}
}

// Shared returns the table's map with m's entries: one the table holds, or a
// new one made of the table's strings, which the table keeps. It never writes
// into m, which may be a map other objects already share (a transform can be
// handed the same object twice). A map of more than 8 entries, or with a
// string longer than the string table keeps, is copied with its strings
// shared, and not kept.
func (t *Maps) Shared(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	key, ok := t.key(m)
	if !ok {
		return t.copyOf(m)
	}
	return t.maps.get(key, func() map[string]string { return t.copyOf(m) })
}

// copyOf is a new map with m's entries, made of the string table's copies.
func (t *Maps) copyOf(m map[string]string) map[string]string {
	n := make(map[string]string, len(m))
	for k, v := range m {
		n[t.strings.String(k)] = t.strings.String(v)
	}
	return n
}

// key is an unambiguous encoding of m's entries in key order (each string
// preceded by its length, so no entry can pose as two); false when m has more
// than 8 entries or a string too long to share.
func (t *Maps) key(m map[string]string) (string, bool) {
	if len(m) > maxSharedMapSize {
		return "", false
	}
	keys := make([]string, 0, len(m))
	n := 0
	for k, v := range m {
		if len(k) > t.strings.maxLen || len(v) > t.strings.maxLen {
			return "", false
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 8
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	for _, k := range keys {
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(b, ':')
		b = append(b, k...)
		v := m[k]
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	return string(b), true
}
