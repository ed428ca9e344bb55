// Package nslimit keeps a token bucket per namespace, made on first use and
// dropped after a while unused, so that per-namespace shares cost memory only
// for the namespaces that are active.
package nslimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Idle is how long a namespace's bucket is kept after its last use.
const Idle = 10 * time.Minute

// Limiters is a rate.Limiter per namespace, each of the same rate and burst.
type Limiters struct {
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

// New returns Limiters of r events a second with burst.
func New(r rate.Limit, burst int) *Limiters {
	return &Limiters{rate: r, burst: max(burst, 1), buckets: map[string]*bucket{}}
}

// Get returns namespace's limiter, made now if it has none, and drops the
// buckets unused for Idle.
func (l *Limiters) Get(namespace string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > Idle {
		for ns, b := range l.buckets {
			if now.Sub(b.used) > Idle {
				delete(l.buckets, ns)
			}
		}
		l.swept = now
	}
	b := l.buckets[namespace]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[namespace] = b
	}
	b.used = now
	return b.lim
}

// Len is the number of namespaces with a bucket.
func (l *Limiters) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
