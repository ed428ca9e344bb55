package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// loginToken is a token obtained by login, and what the client knows of its
// lifetime. Its own lock guards the lifetime, so that the keeper reads and
// renews held tokens without the client's lock, which a login to a slow
// server may hold for a whole request timeout.
type loginToken struct {
	value string
	id    string        // tokenID: a hash, never the token
	ttl   time.Duration // what a login grants, asked again on renewal

	mu        sync.Mutex // guards what follows; never held across a request
	expiresAt time.Time  // the end of the current grant; zero: none
	renewable bool
	end       time.Time // the end for good once known (max TTL, not renewable); zero while unknown
	lost      bool      // refused by the server, or let go: its leases are gone
	retryAt   time.Time // after a failed renewal, when to try again
	renewing  bool      // a keeper renewal is under way
}

// newLoginToken is a token granted d at now.
func newLoginToken(value, accessor string, d time.Duration, renewable bool, now time.Time) *loginToken {
	t := &loginToken{value: value, id: tokenID(value, accessor), ttl: d}
	t.granted(now, d, renewable)
	return t
}

// tokenID identifies a token by its accessor, or by the token itself when it
// has none (a batch token), hashed so that no handle on the token is stored
// with the leases it owns.
func tokenID(value, accessor string) string {
	key := "accessor/" + accessor
	if accessor == "" {
		key = "token/" + value
	}
	sum := sha256.Sum256([]byte("baosync token/" + key))
	return hex.EncodeToString(sum[:12])
}

// granted records a grant of d at now. A grant shorter than the TTL asked for
// means the token reached its max TTL, and a token that cannot be renewed
// ends with its grant: either way its end is known.
func (t *loginToken) granted(now time.Time, d time.Duration, renewable bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.renewable, t.retryAt = renewable, time.Time{}
	t.expiresAt = time.Time{}
	if d > 0 {
		t.expiresAt = now.Add(d)
	}
	if !renewable || (d > 0 && d < t.ttl-time.Second) {
		t.end = t.expiresAt
	}
}

// knownEnd is when the token ends for good, or zero while renewals extend it.
func (t *loginToken) knownEnd() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.end
}

// fresh reports whether requests may use the token at now without renewing
// it: no expiry, or more than a third of its TTL left.
func (t *loginToken) fresh(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expiresAt.IsZero() || now.Before(t.expiresAt.Add(-t.ttl/3))
}

// extensible reports whether a renewal may still extend the token at now.
func (t *loginToken) extensible(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.renewable && t.end.IsZero() && now.Before(t.expiresAt.Add(-5*time.Second))
}

// leaseWorthy reports whether a new lease may be issued under the token at
// now: its end is unknown, or at least half its TTL away, so that a lease
// issued under it has time to be used before it is issued anew.
func (t *loginToken) leaseWorthy(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.end.IsZero() || now.Before(t.end.Add(-t.ttl/2))
}

// takeDue reports whether the keeper renews the token at now (a renewable
// token with no known end, past half of its grant), and marks it as being
// renewed.
func (t *loginToken) takeDue(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	due := !t.lost && !t.renewing && t.renewable && t.end.IsZero() && !t.expiresAt.IsZero() &&
		!now.Before(t.expiresAt.Add(-t.ttl/2)) && !now.Before(t.retryAt)
	if due {
		t.renewing = true
	}
	return due
}

// renewed ends a keeper renewal; one that failed is tried again after delay.
func (t *loginToken) renewed(now time.Time, err error, delay time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.renewing = false
	if err != nil {
		t.retryAt = now.Add(delay)
	}
}

// ended reports whether the token is gone at now: lost, or past its grant.
func (t *loginToken) ended(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost || (!t.expiresAt.IsZero() && !now.Before(t.expiresAt))
}

// markLost records that the token is gone; it reports whether it was not yet.
func (t *loginToken) markLost() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.lost
	t.lost = true
	return !was
}

// isLost reports whether the token is gone.
func (t *loginToken) isLost() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost
}
