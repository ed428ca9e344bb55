package intern

import "sync"

// bounded is a map of at most max entries that starts over when full, so
// that what a tenant fills it with costs at most its bound; values already
// handed out stay shared. It is safe for concurrent use.
type bounded[V any] struct {
	mu  sync.Mutex
	m   map[string]V
	max int
}

func newBounded[V any](maxEntries int) *bounded[V] {
	return &bounded[V]{m: make(map[string]V), max: maxEntries}
}

// get returns the value kept for key, or keeps and returns the one made.
func (b *bounded[V]) get(key string, fresh func() V) V {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.m[key]; ok {
		return v
	}
	if len(b.m) >= b.max {
		clear(b.m) // start over: what is shared stays shared
	}
	v := fresh()
	b.m[key] = v
	return v
}

// len is the number of entries kept.
func (b *bounded[V]) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
