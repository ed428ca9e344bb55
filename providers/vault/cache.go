package vault

import (
	"sync"
	"time"
)

// readCache keeps recent reads of one store in memory so that objects sharing
// a path share one read per refresh window. Entries are never older than the
// provider's maxReadAge: a sweep drops them at least once a minute.
type readCache struct {
	mu        sync.Mutex
	entries   map[string]cachedRead
	lastSweep time.Time
}

type cachedRead struct {
	data map[string]any // never modified after it is stored
	at   time.Time
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

// put stores a read, and drops entries older than keep.
func (rc *readCache) put(key string, data map[string]any, now time.Time, keep time.Duration) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.entries[key] = cachedRead{data: data, at: now}
	rc.sweepLocked(now, keep)
}

// sweepLocked drops entries older than keep, at most once a minute.
func (rc *readCache) sweepLocked(now time.Time, keep time.Duration) {
	if d := now.Sub(rc.lastSweep); d >= 0 && d < time.Minute {
		return
	}
	rc.lastSweep = now
	for k, e := range rc.entries {
		if now.Sub(e.at) > keep {
			delete(rc.entries, k)
		}
	}
}

// drop forgets key.
func (rc *readCache) drop(key string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delete(rc.entries, key)
}
