// Package intern shares the bytes of the strings that many cached objects
// repeat. A decoded object holds its own copy of every string: at 100,000
// ExternalSecrets that is 100,000 copies of the same namespace, store name,
// condition reason and message, API version and kind. Interning them in the
// cache's transform keeps one copy of each.
//
// The table is bounded, so that objects a tenant fills with distinct strings
// cost it at most its bound: when it is full it starts over, and the strings
// already shared stay shared.
package intern

// Table maps each string it has seen to the one copy it hands out. It is
// safe for concurrent use.
type Table struct {
	strings *bounded[string]
	maxLen  int
}

// New returns a table of at most maxEntries strings, each at most maxLen
// bytes long; longer strings are returned as they are.
func New(maxEntries, maxLen int) *Table {
	return &Table{strings: newBounded[string](maxEntries), maxLen: maxLen}
}

// String returns the table's copy of s, which it keeps from now on if it has
// none.
func (t *Table) String(s string) string {
	if s == "" || len(s) > t.maxLen {
		return s
	}
	return t.strings.get(s, func() string { return s })
}

// maxMapEntries is the largest map Map shares: a map with more entries is
// someone's own, and rebuilding it would cost more than sharing saves.
const maxMapEntries = 64

// Map replaces m's keys and values with the table's copies, in place. A map
// of more than 64 entries is left as it is.
func (t *Table) Map(m map[string]string) {
	if len(m) == 0 || len(m) > maxMapEntries {
		return
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, pair{t.String(k), t.String(v)})
	}
	clear(m)
	for _, p := range pairs {
		m[p.k] = p.v
	}
}
