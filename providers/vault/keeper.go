package vault

import (
	"context"
	"strings"
	"sync"
	"time"
)

// The keeper: held tokens (custody.go) are renewed at half their grant by
// Provider.Start, whether or not a request needs them, including the tokens of
// clients that left the cache (a store or generator changed) while they own
// leases.

// keepPeriod is how often the keeper looks at the held tokens: well under
// half of the shortest token TTL worth supporting.
const keepPeriod = time.Second

// Renewals under way at once: in all, and of one namespace's generators (a
// ClusterGenerator's count as the cluster's), so that a tenant whose servers
// hang on renewals holds a few slots for a request timeout, never the
// renewals of everyone else's tokens.
const (
	keepSlots          = 64
	keepSlotsNamespace = 4
)

// Clients kept for their tokens after they left the cache: in all and per
// namespace, so that a tenant whose generator changes in a loop only ever
// pushes out its own. A client is kept at least retireGrace, for a request
// already under way on it to hold the token it issues a lease with.
const (
	maxRetiring          = 1024
	maxRetiringNamespace = 32
	retireGrace          = time.Minute
)

// keeper runs the renewals of held tokens, each in its own goroutine within
// the slots above.
type keeper struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	busy  int
	perNS map[string]int
}

// keepTokens runs the keeper until ctx ends, and waits for the renewals under
// way (each bounded by the request timeout) before it returns.
func (p *Provider) keepTokens(ctx context.Context) {
	k := &keeper{perNS: map[string]int{}}
	defer k.wg.Wait()
	t := time.NewTicker(keepPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.keepOnce(ctx, k)
		}
	}
}

// keepOnce starts the renewals that are due in every client, and forgets
// the replaced clients that hold nothing any more. A token for which no slot
// is free stays due, for the next round. Nothing here waits on a request.
func (p *Provider) keepOnce(ctx context.Context, k *keeper) {
	p.mu.Lock()
	clients := make([]*storeClient, 0, len(p.clients)+len(p.retiring))
	for _, c := range p.clients {
		clients = append(clients, c)
	}
	clients = append(clients, p.retiring...)
	p.mu.Unlock()
	done := map[*storeClient]bool{}
	now := p.opts.now()
	for _, c := range clients {
		due, ended, holds := c.sortHeld(now)
		if !holds && c.retiredFor(now) >= retireGrace {
			done[c] = true
		}
		for _, t := range ended {
			k.wg.Go(func() { c.forget(ctx, t) })
		}
		for _, t := range due {
			if !k.start(ctx, c, t) {
				t.renewed(now, errNoSlot, 0)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.retiring[:0]
	for _, c := range p.retiring {
		if !done[c] {
			kept = append(kept, c)
		}
	}
	p.retiring = kept
}

// errNoSlot gives a due token back to the next round.
var errNoSlot = errSentinel("no renewal slot free")

// errSentinel is an error of a constant message.
type errSentinel string

func (e errSentinel) Error() string { return string(e) }

// sortHeld lets go of the held tokens that ended, telling the owners of the
// leases of those that ran out (a lost one was told already), and returns
// them with those due for renewal, marked as being renewed; holds reports
// whether the client still holds any.
func (c *storeClient) sortHeld(now time.Time) (due, ended []*loginToken, holds bool) {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	kept := c.held[:0]
	for _, t := range c.held {
		switch {
		case t.ended(now):
			if t.markLost() {
				c.opts.tokenEnded(c.storeName())
			}
			ended = append(ended, t)
		case t.takeDue(now):
			due = append(due, t)
			kept = append(kept, t)
		default:
			kept = append(kept, t)
		}
	}
	c.held = kept
	return due, ended, len(c.held) > 0
}

// keep renews one held token. A refusal means the token and its leases are
// gone; a passing failure is tried again soon, until the token's end. A known
// end (the max TTL reached) is told to the owners of its leases.
func (c *storeClient) keep(ctx context.Context, t *loginToken) {
	d, renewable, err := c.renewToken(ctx, t)
	if err == nil {
		c.grant(t, d, renewable)
	}
	t.renewed(c.opts.now(), err, min(5*time.Second, max(t.ttl/10, time.Second)))
	if isRefusal(err) && t.markLost() {
		c.opts.tokenEnded(c.storeName())
	}
}

// start renews t in a goroutine when a slot is free, in all and for the
// client's namespace.
func (k *keeper) start(ctx context.Context, c *storeClient, t *loginToken) bool {
	ns := namespaceOf(c.name)
	if !k.acquire(ns) {
		return false
	}
	k.wg.Go(func() {
		defer k.done(ns)
		c.keep(ctx, t)
	})
	return true
}

// acquire takes a slot for a renewal of namespace ns, if one is free.
func (k *keeper) acquire(ns string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.busy >= keepSlots || k.perNS[ns] >= keepSlotsNamespace {
		return false
	}
	k.busy++
	k.perNS[ns]++
	return true
}

// done frees a slot.
func (k *keeper) done(ns string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.busy--
	if k.perNS[ns]--; k.perNS[ns] == 0 {
		delete(k.perNS, ns)
	}
}

// namespaceOf is the namespace in a client's name "Kind/namespace/name",
// or the namespace a view serves ("Kind//name@namespace");
// empty for a cluster-scoped one.
func namespaceOf(name string) string {
	if _, tenant, ok := strings.Cut(name, "@"); ok {
		return tenant // a view of a shared store counts against the namespace it serves
	}
	_, rest, _ := strings.Cut(name, "/")
	ns, _, _ := strings.Cut(rest, "/")
	return ns
}

// retire keeps a client that left the cache, for the tokens it holds or will
// hold (a request under way on it), within the bounds above; it serves no
// more reads.
func (p *Provider) retire(c *storeClient) {
	c.cache.clear()
	c.heldMu.Lock()
	c.retiredAt = p.opts.now()
	c.heldMu.Unlock()
	ns := namespaceOf(c.name)
	p.mu.Lock()
	defer p.mu.Unlock()
	same := 0
	for _, r := range p.retiring {
		if namespaceOf(r.name) == ns {
			same++
		}
	}
	if same >= maxRetiringNamespace || len(p.retiring) >= maxRetiring {
		for i, r := range p.retiring {
			if namespaceOf(r.name) == ns || len(p.retiring) >= maxRetiring {
				r.loseAll()
				p.retiring = append(p.retiring[:i], p.retiring[i+1:]...)
				break
			}
		}
	}
	p.retiring = append(p.retiring, c)
}

// retiredFor is how long ago the client left the cache; zero while in it.
func (c *storeClient) retiredFor(now time.Time) time.Duration {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	if c.retiredAt.IsZero() {
		return 0
	}
	return now.Sub(c.retiredAt)
}

// loseAll lets go of every held token, telling the owners of their leases.
func (c *storeClient) loseAll() {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	told := false
	for _, t := range c.held {
		if t.markLost() && !told {
			c.opts.tokenEnded(c.storeName())
			told = true
		}
	}
	c.held = nil
}
