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
}

// New returns a Budget of perSecond syncs per namespace, with burst.
func New(perSecond float64, burst int) *Budget {
	return &Budget{rate: rate.Limit(perSecond), burst: max(burst, 1), buckets: map[string]*bucket{}}
}

// Take takes one sync of namespace's share at now, and returns 0; or, when
// the share is used up, takes nothing and returns how long to wait.
func (b *Budget) Take(namespace string, now time.Time) time.Duration {
	if b == nil || b.rate <= 0 {
		return 0
	}
	lim := b.bucket(namespace, now)
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); !r.OK() || d > 0 {
		r.CancelAt(now)
		return max(d, time.Second/time.Duration(max(int(b.rate), 1)))
	}
	return 0
}

// bucket returns namespace's limiter, dropping buckets idle for a while.
func (b *Budget) bucket(namespace string, now time.Time) *rate.Limiter {
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
	return k.lim
}
