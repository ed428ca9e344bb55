package vault

import (
	"fmt"
	"sync"
	"time"

	"github.com/baosync/baosync/providers"
)

// breaker stops a store's client from hammering a server that is down: after
// a request fails as unavailable, the following requests fail at once for a
// window that doubles with each failure (1 s up to 10 s); a success closes it.
// Without it every object due for a refresh would try for itself during an
// outage.
type breaker struct {
	mu        sync.Mutex
	openUntil time.Time
	window    time.Duration
}

const (
	breakerMin = time.Second //nolint:revive // time-naming: Min is the minimum window, not minutes
	breakerMax = 10 * time.Second
)

// check returns an ErrUnavailable error while the breaker is open.
func (b *breaker) check(now time.Time, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.openUntil) {
		return fmt.Errorf("store %s: the server failed recently; next attempt in %s: %w",
			name, b.openUntil.Sub(now).Round(100*time.Millisecond), providers.ErrUnavailable)
	}
	return nil
}

// failed opens the breaker for the next window. The failure's message is not
// kept: a shared store's breaker answers every tenant, and the message names
// the remote key of whichever tenant's request failed.
func (b *breaker) failed(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.window = min(max(b.window*2, breakerMin), breakerMax)
	b.openUntil = now.Add(b.window)
}

// succeeded closes the breaker.
func (b *breaker) succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.window, b.openUntil = 0, time.Time{}
}
