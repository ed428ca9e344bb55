// Package syncbudget gives each namespace a share of the operator's syncs, so
// that one namespace's objects cannot spend the operator's Kubernetes API
// budget (or the workers) that every namespace shares. A store's OpenBao/Vault
// requests have a per-namespace share of their own (providers/vault); this one
// also bounds objects that read no server, such as Password and UUID
// generators.
package syncbudget

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// idle is how long a namespace's bucket is kept after its last sync.
const idle = 10 * time.Minute

// Budget is a token bucket of syncs per namespace. A nil Budget, or one with
// a rate of 0, admits everything.
type Budget struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
	told time.Time // when a wait was last reported
}

// tellEvery is how often a namespace's waits are reported (Take's tell): one
// event per namespace per period, not one per deferred sync, which would
// cost the API server a write for every sync it saved.
const tellEvery = time.Minute

// New returns a Budget of perSecond syncs per namespace, with burst.
func New(perSecond float64, burst int) *Budget {
	return &Budget{rate: rate.Limit(perSecond), burst: max(burst, 1), buckets: map[string]*bucket{}}
}

// Take takes one sync of namespace's share at now, and returns 0; or, when
// the share is used up, takes nothing and returns how long to wait, and
// whether to tell (the namespace's first wait in tellEvery).
func (b *Budget) Take(namespace string, now time.Time) (wait time.Duration, tell bool) {
	if b == nil || b.rate <= 0 {
		return 0, false
	}
	k := b.bucket(namespace, now)
	r := k.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); !r.OK() || d > 0 {
		r.CancelAt(now)
		return max(d, time.Second/time.Duration(max(int(b.rate), 1))), b.tell(k, now)
	}
	return 0, false
}

// tell reports whether a wait of k's namespace at now is to be told.
func (b *Budget) tell(k *bucket, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(k.told) < tellEvery {
		return false
	}
	k.told = now
	return true
}

// bucket returns namespace's bucket, dropping buckets idle for a while.
func (b *Budget) bucket(namespace string, now time.Time) *bucket {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > idle {
		for ns, k := range b.buckets {
			if now.Sub(k.used) > idle {
				delete(b.buckets, ns)
			}
		}
		b.swept = now
	}
	k := b.buckets[namespace]
	if k == nil {
		k = &bucket{lim: rate.NewLimiter(b.rate, b.burst)}
		b.buckets[namespace] = k
	}
	k.used = now
	return k
}
