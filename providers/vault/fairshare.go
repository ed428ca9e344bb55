package vault

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/baosync/baosync/internal/nslimit"
	"github.com/baosync/baosync/providers"
)

// maxAdmitWait is the longest a request waits for the store-wide budget. A
// longer wait is reported as throttling, so that no worker is held: workers
// are shared by every namespace.
const maxAdmitWait = 500 * time.Millisecond

// fairShare admits the requests of one store. Each namespace using the store
// has a bucket of its own (its share) and the store has one for all; a
// namespace that used up its share is told to come back later instead of
// queueing, so one tenant's objects cannot take a shared store's whole budget
// nor hold the workers that serve everyone else.
type fairShare struct {
	share   rate.Limit        // per namespace; 0: no per-namespace limit
	tenants *nslimit.Limiters // each namespace's share
	store   *rate.Limiter     // nil: no store-wide limit
}

// newFairShare returns the admission of one store from the provider's options.
func newFairShare(o *options) *fairShare {
	f := &fairShare{share: rate.Limit(o.namespaceRate), tenants: nslimit.New(rate.Limit(o.namespaceRate), o.namespaceBurst)}
	if o.rateLimit > 0 {
		f.store = rate.NewLimiter(rate.Limit(o.rateLimit), o.rateBurst)
	}
	return f
}

// admit takes one request from namespace's share and from the store's budget,
// waiting at most maxAdmitWait; otherwise it returns a ThrottledError.
func (f *fairShare) admit(ctx context.Context, store, namespace string) error {
	now := time.Now()
	var mine *rate.Reservation
	if lim := f.bucket(namespace, now); lim != nil {
		mine = lim.ReserveN(now, 1)
		if d := mine.DelayFrom(now); !mine.OK() || d > 0 {
			mine.CancelAt(now)
			return &providers.ThrottledError{Store: store, Namespace: namespace, After: max(d, time.Second/time.Duration(max(int(f.share), 1)))}
		}
	}
	if f.store == nil {
		return nil
	}
	all := f.store.ReserveN(now, 1)
	d := all.DelayFrom(now)
	if !all.OK() || d > maxAdmitWait {
		all.CancelAt(now)
		if mine != nil {
			mine.CancelAt(now)
		}
		return &providers.ThrottledError{Store: store, Namespace: namespace, After: max(d, time.Second), StoreWide: true}
	}
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		all.Cancel()
		if mine != nil {
			mine.Cancel()
		}
		return ctx.Err()
	}
}

// bucket returns namespace's limiter (nil without a per-namespace limit).
func (f *fairShare) bucket(namespace string, now time.Time) *rate.Limiter {
	if f.share <= 0 {
		return nil
	}
	return f.tenants.Get(namespace, now)
}

type tenantKey struct{}

// withTenant records the namespace on whose behalf requests are made.
func withTenant(ctx context.Context, namespace string) context.Context {
	return context.WithValue(ctx, tenantKey{}, namespace)
}

// tenantOf returns the namespace withTenant recorded ("" for the store itself).
func tenantOf(ctx context.Context) string {
	ns, _ := ctx.Value(tenantKey{}).(string)
	return ns
}

// inFlight bounds the requests one namespace has under way at once, across
// every store of the provider: the workers are shared, and a tenant's server
// that answers slowly (but answers) would otherwise hold all of them.
type inFlight struct {
	max  int // 0: no bound
	mu   sync.Mutex
	byNS map[string]int
}

// acquire takes a slot of namespace, or returns a ThrottledError when it has
// max requests under way already.
func (f *inFlight) acquire(store, namespace string) (release func(), err error) {
	if f.max <= 0 {
		return func() {}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byNS == nil {
		f.byNS = map[string]int{}
	}
	if f.byNS[namespace] >= f.max {
		return nil, &providers.ThrottledError{Store: store, Namespace: namespace, After: time.Second}
	}
	f.byNS[namespace]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.byNS[namespace]--; f.byNS[namespace] <= 0 {
			delete(f.byNS, namespace)
		}
	}, nil
}
