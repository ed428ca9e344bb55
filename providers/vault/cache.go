package vault

import (
	"sync"
	"sync/atomic"
	"time"
)

// readCache keeps recent reads of one store in memory so that objects sharing
// a path share one read per refresh window. Only reads asked with a MaxAge are
// kept; entries older than the provider's maxReadAge are dropped when the
// cache is next touched (at most once a minute), and every store's entries
// together stay under the provider's byte budget: a tenant reading many
// distinct paths cannot grow the operator's memory through the cache.
type readCache struct {
	mu        sync.Mutex
	entries   map[string]cachedRead
	lastSweep time.Time
	budget    *cacheBudget // shared by every store of the provider; nil: unbounded
}

type cachedRead struct {
	data map[string]any // never modified after it is stored
	at   time.Time
	size int64
}

// cacheBudget is the provider-wide bound on cached bytes.
type cacheBudget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes, or reports that the budget has no room for them.
func (b *cacheBudget) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

// give returns n bytes.
func (b *cacheBudget) give(n int64) {
	if b != nil {
		b.used.Add(-n)
	}
}

// get returns the data read for key at most maxAge ago.
func (rc *readCache) get(key string, maxAge time.Duration, now time.Time, keep time.Duration) (map[string]any, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.sweepLocked(now, keep)
	if maxAge <= 0 {
		return nil, false
	}
	e, ok := rc.entries[key]
	if !ok || now.Sub(e.at) > maxAge {
		return nil, false
	}
	return e.data, true
}

// put stores a read when the budget has room, and drops entries older than keep.
func (rc *readCache) put(key string, data map[string]any, now time.Time, keep time.Duration) {
	size := approxSize(data, 0)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.sweepLocked(now, keep)
	rc.dropLocked(key)
	if !rc.budget.take(size) {
		return
	}
	rc.entries[key] = cachedRead{data: data, at: now, size: size}
}

// sweepLocked drops entries older than keep, at most once a minute.
func (rc *readCache) sweepLocked(now time.Time, keep time.Duration) {
	if d := now.Sub(rc.lastSweep); d >= 0 && d < time.Minute {
		return
	}
	rc.lastSweep = now
	for k, e := range rc.entries {
		if now.Sub(e.at) > keep {
			rc.dropLocked(k)
		}
	}
}

// drop forgets key.
func (rc *readCache) drop(key string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.dropLocked(key)
}

func (rc *readCache) dropLocked(key string) {
	if e, ok := rc.entries[key]; ok {
		rc.budget.give(e.size)
		delete(rc.entries, key)
	}
}

// clear forgets everything, giving the bytes back to the budget; it is called
// when the store's client is dropped.
func (rc *readCache) clear() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for k := range rc.entries {
		rc.dropLocked(k)
	}
}

// approxSize estimates the memory of a decoded JSON value: string bytes plus
// a word or two per element, enough to bound the cache.
func approxSize(v any, depth int) int64 {
	const overhead = 32
	if depth > 32 {
		return overhead
	}
	switch t := v.(type) {
	case string:
		return int64(len(t)) + overhead
	case map[string]any:
		n := int64(overhead)
		for k, e := range t {
			n += int64(len(k)) + approxSize(e, depth+1)
		}
		return n
	case []any:
		n := int64(overhead)
		for _, e := range t {
			n += approxSize(e, depth+1)
		}
		return n
	}
	return overhead
}
