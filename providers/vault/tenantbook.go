package vault

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// storeShared is what the views of one store share: the server is one, so its
// rate budget and its breaker are too.
type storeShared struct {
	fair *fairShare
	down *health
}

// sharedOf returns what the clients of store share, creating it on first use.
func (p *Provider) sharedOf(store string) *storeShared {
	p.mu.Lock()
	defer p.mu.Unlock()
	sh := p.shared[store]
	if sh == nil {
		sh = &storeShared{fair: newFairShare(&p.opts), down: &health{}}
		p.shared[store] = sh
	}
	return sh
}

// maxTenantsTracked bounds the namespaces a store's book remembers: past it,
// new namespaces are served but not listed.
const maxTenantsTracked = 10000

// tenantBook is what a shared store knows of the namespaces it served: the
// outcome of each one's last login.
type tenantBook struct {
	mu     sync.Mutex
	failed map[string]error // by namespace; nil for a login that worked
}

// tenantResult records the outcome of a login (or of what prevents one) of the
// view of store for tenant; the store's own identity (tenant "") is not
// recorded, and neither is a failure that says nothing about the login.
func (p *Provider) tenantResult(store, tenant string, err error) {
	if tenant == "" || errors.Is(err, providers.ErrThrottled) {
		return
	}
	p.mu.Lock()
	b := p.tenants[store]
	if b == nil {
		b = &tenantBook{failed: map[string]error{}}
		p.tenants[store] = b
	}
	p.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, known := b.failed[tenant]; known || len(b.failed) < maxTenantsTracked {
		b.failed[tenant] = err
	}
}

var _ providers.TenantReporter = (*Provider)(nil)

// PerNamespace is providers.TenantReporter.PerNamespace.
func (p *Provider) PerNamespace(store v1alpha1.GenericStore) bool { return PerNamespace(store) }

// Tenants lists the namespaces the store served as themselves since the
// operator started, by name, with the outcome of each one's last login.
func (p *Provider) Tenants(store string) []providers.TenantLogin {
	p.mu.Lock()
	b := p.tenants[store]
	p.mu.Unlock()
	if b == nil {
		return nil
	}
	b.mu.Lock()
	out := make([]providers.TenantLogin, 0, len(b.failed))
	for ns, err := range b.failed {
		out = append(out, providers.TenantLogin{Namespace: ns, Err: err})
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

// viewIdle is how long a view of a shared store may go unused before it is
// dropped and its token revoked: its namespace was deleted or no longer uses
// the store. A later use logs in again.
const viewIdle = time.Hour

// maxParallelRevokes bounds the revocations of one Release or sweep.
const maxParallelRevokes = 8

// used records that the view was handed out now.
func (c *storeClient) used(now time.Time) { c.lastUsed.Store(now.UnixNano()) }

// idleViews removes from the cache the views unused for viewIdle that hold
// no token for a lease (those stay for their leases), and returns them.
func (p *Provider) idleViews(now time.Time) []*storeClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	var idle []*storeClient
	for identity, key := range p.byStore {
		c := p.clients[key]
		if c == nil || c.tenant == "" || now.Sub(time.Unix(0, c.lastUsed.Load())) < viewIdle || c.holdsAny() {
			continue
		}
		idle = append(idle, c)
		delete(p.clients, key)
		delete(p.byStore, identity)
	}
	return idle
}

// revokeAll revokes the tokens of clients that left the cache, a few at a
// time, each within the request timeout.
func (p *Provider) revokeAll(clients []*storeClient) {
	sem := make(chan struct{}, maxParallelRevokes)
	var wg sync.WaitGroup
	for _, c := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), p.opts.requestTimeout)
			defer cancel()
			c.revoke(ctx)
		})
	}
	wg.Wait()
}
