package vault

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// readCache keeps recent reads of one store in memory so that objects sharing
// a path share one read per refresh window. Only reads asked with a MaxAge are
// kept, and none when the provider's maxReadAge is zero. A read is served
// only to a caller whose MaxAge (at most maxReadAge) it meets; the
// provider's sweeper (Provider.Start) drops entries older than maxReadAge on
// a timer, so that a value leaves memory at most maxReadAge + sweepPeriod
// after it was read even when its store goes idle. Every store's entries
// together stay under the provider's byte budget: a tenant reading many
// distinct paths cannot grow the operator's memory through the cache.
type readCache struct {
	mu      sync.Mutex
	entries map[string]cachedRead
	budget  *cacheBudget // shared by every store of the provider; nil: unbounded
}

// sweepPeriod is how often Provider.Start sweeps: every minute, or every
// maxReadAge when that is shorter.
func sweepPeriod(maxReadAge time.Duration) time.Duration {
	if maxReadAge > 0 && maxReadAge < time.Minute {
		return maxReadAge
	}
	return time.Minute
}

// Start sweeps every store's read cache every sweepPeriod, and keeps the
// tokens that own leases alive (custody.go), until ctx ends; it makes the
// Provider a manager.Runnable, started and stopped with the manager.
func (p *Provider) Start(ctx context.Context) error {
	var keeper sync.WaitGroup
	keeper.Go(func() { p.keepTokens(ctx) })
	defer keeper.Wait()
	t := time.NewTicker(sweepPeriod(p.opts.maxReadAge))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			p.sweep()
		}
	}
}

// NeedLeaderElection is false: every replica drops its own old reads.
func (p *Provider) NeedLeaderElection() bool { return false }

// sweep drops every store's entries older than maxReadAge.
func (p *Provider) sweep() {
	p.mu.Lock()
	clients := make([]*storeClient, 0, len(p.clients))
	for _, c := range p.clients {
		clients = append(clients, c)
	}
	p.mu.Unlock()
	now := p.opts.now()
	for _, c := range clients {
		c.cache.sweep(now, p.opts.maxReadAge)
	}
	p.revokeAll(p.idleViews(now))
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

// get returns the data read for key at most maxAge ago; the sweeper, not the
// reader, drops old entries.
func (rc *readCache) get(key string, maxAge time.Duration, now time.Time) (map[string]any, bool) {
	if maxAge <= 0 {
		return nil, false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	e, ok := rc.entries[key]
	if !ok || now.Sub(e.at) > maxAge {
		return nil, false
	}
	return e.data, true
}

// put stores a read when the budget has room; with keep (maxReadAge) zero,
// nothing is kept.
func (rc *readCache) put(key string, data map[string]any, now time.Time, keep time.Duration) {
	size := approxSize(data, 0)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.dropLocked(key)
	if keep <= 0 {
		return
	}
	if !rc.budget.take(size) {
		return
	}
	rc.entries[key] = cachedRead{data: data, at: now, size: size}
}

// sweep drops entries older than keep.
func (rc *readCache) sweep(now time.Time, keep time.Duration) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
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
