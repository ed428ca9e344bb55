package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

// Token custody. OpenBao and Vault revoke every lease a token created when
// that token expires or is revoked, so a credential in a Secret lives no longer
// than the login token that issued it. A token that issued a lease is therefore
// held: renewed ahead of its end by Provider.Start's keeper (not only when a
// request happens to need it), never revoked when its client is replaced or
// released, and never used for a new lease once its end is known (its max TTL
// reached, or not renewable), so that every lease issued after that belongs to
// a fresh login. When a held token's end becomes known, or the server refuses
// it, the provider tells the owners of its leases (OnTokenEnd), who issue new
// credentials before it ends.

// maxHeld bounds the tokens one client keeps alive; past it the oldest is let
// go (its leases are reported lost and issued anew). A client holds one token
// per login that issued leases, and a token is dropped once it ended.
const maxHeld = 8

// loginToken is a token obtained by login, and what the client knows of its
// lifetime.
type loginToken struct {
	value     string
	id        string        // tokenID of its accessor; never the token
	ttl       time.Duration // what a login grants, asked again on renewal
	expiresAt time.Time     // the end of the current grant; zero: none
	renewable bool
	end       time.Time // the end for good once known (max TTL, not renewable); zero while unknown
	lost      bool      // refused by the server: its leases are gone
	retryAt   time.Time // after a failed renewal, when to try again
	renewing  bool      // a keeper renewal is under way
}

// tokenID identifies a token by its accessor, hashed so that no handle on the
// token is stored with the leases it owns.
func tokenID(accessor string) string {
	if accessor == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("baosync token/" + accessor))
	return hex.EncodeToString(sum[:12])
}

// granted records a grant of d at now. A grant shorter than the TTL asked for
// means the token reached its max TTL: its end is known.
func (t *loginToken) granted(now time.Time, d time.Duration, renewable bool) {
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
	if !t.renewable {
		return t.expiresAt
	}
	return t.end
}

// due reports whether the keeper renews the token at now: a renewable token
// with no known end, past half of its grant.
func (t *loginToken) due(now time.Time) bool {
	return !t.lost && !t.renewing && t.renewable && t.end.IsZero() && !t.expiresAt.IsZero() &&
		!now.Before(t.expiresAt.Add(-t.ttl/2)) && !now.Before(t.retryAt)
}

// holdsLocked reports whether t owns leases; c.mu is held.
func (c *storeClient) holdsLocked(t *loginToken) bool {
	for _, h := range c.held {
		if h == t {
			return true
		}
	}
	return false
}

// leaseToken returns the token a new lease is issued under, logging in when
// the current one's end is known: a lease under it would die with it.
func (c *storeClient) leaseToken(ctx context.Context) (*loginToken, error) {
	if c.creds.staticToken != "" {
		return nil, nil // the user's token: its lifetime is the user's
	}
	c.adopt(ctx)
	if _, err := c.ensureToken(ctx); err != nil {
		return nil, err
	}
	t, err := c.freshLeaseToken(ctx)
	if err != nil {
		return nil, err
	}
	return t, c.persist(ctx, t)
}

// freshLeaseToken is the current token, or a new login's when the current
// one's end is known.
func (c *storeClient) freshLeaseToken(ctx context.Context) (*loginToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && !c.cur.knownEnd().IsZero() {
		if err := c.loginLocked(ctx); err != nil {
			return nil, err
		}
	}
	if c.cur == nil {
		return nil, fmt.Errorf("store %s: no token after login: %w", c.name, providers.ErrAuth)
	}
	return c.cur, nil
}

// hold keeps t alive for the lease it just issued.
func (c *storeClient) hold(t *loginToken) {
	if t == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holdsLocked(t) {
		return
	}
	c.held = append(c.held, t)
	if len(c.held) > maxHeld {
		c.held[0].lost = true
		c.held = c.held[1:]
		c.opts.tokenEnded(c.name)
	}
}

// TokenEnd is providers.DynamicClient.TokenEnd: a user's static token is the
// user's to keep; a held token ends at its known end, or never while renewed.
func (c *storeClient) TokenEnd(ctx context.Context, token string) (time.Time, bool) {
	if c.creds.staticToken != "" {
		return time.Time{}, true
	}
	c.adopt(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.held {
		if t.id == token && token != "" && !t.lost {
			return t.knownEnd(), true
		}
	}
	return time.Time{}, false
}

// renewToken renews t with its own token (not the client's current one, which
// may have moved on), asking for its full TTL, so that a shorter grant shows
// the max TTL.
func (c *storeClient) renewToken(ctx context.Context, t *loginToken) (time.Duration, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	defer cancel()
	cl, err := c.api.CloneWithHeaders()
	if err != nil {
		return 0, false, fmt.Errorf("clone client: %w", err)
	}
	cl.SetToken(t.value)
	var sec *api.Secret
	sec, err = cl.Auth().Token().RenewSelfWithContext(ctx, int(t.ttl.Seconds()))
	if err != nil || sec == nil || sec.Auth == nil {
		c.opts.observe("renew", "error")
		return 0, false, fmt.Errorf("renew token: %w", classify("renew", "auth/token/renew-self", err))
	}
	c.opts.observe("renew", "ok")
	return time.Duration(sec.Auth.LeaseDuration) * time.Second, sec.Auth.Renewable, nil
}

// dueHeld lets go of the held tokens that ended and returns those due for
// renewal, marked as being renewed; ok reports whether the client still
// holds any.
func (c *storeClient) dueHeld(ctx context.Context) (due []*loginToken, ok bool) {
	now := c.opts.now()
	c.mu.Lock()
	var ended []*loginToken
	kept := c.held[:0]
	for _, t := range c.held {
		if t.lost || (!t.expiresAt.IsZero() && !now.Before(t.expiresAt)) {
			ended = append(ended, t) // its leases went with it, and their owners were told
			continue
		}
		kept = append(kept, t)
		if t.due(now) {
			t.renewing = true
			due = append(due, t)
		}
	}
	c.held = kept
	ok = len(c.held) > 0
	c.mu.Unlock()
	for _, t := range ended {
		c.forget(ctx, t)
	}
	return due, ok
}

// unmark gives a due token back to the next round.
func (c *storeClient) unmark(t *loginToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t.renewing = false
}

// keep renews one held token. A refusal means the token and its leases are
// gone; a passing failure is tried again soon, until the token's end.
func (c *storeClient) keep(ctx context.Context, t *loginToken) {
	d, renewable, err := c.renewToken(ctx, t)
	c.mu.Lock()
	defer c.mu.Unlock()
	t.renewing = false
	now := c.opts.now()
	switch {
	case err == nil:
		t.granted(now, d, renewable)
		if !t.knownEnd().IsZero() {
			c.opts.tokenEnded(c.name)
		}
	case isRefusal(err):
		t.lost = true
		c.opts.tokenEnded(c.name)
	default:
		t.retryAt = now.Add(min(5*time.Second, max(t.ttl/10, time.Second)))
	}
}

// isRefusal reports whether the server refused a token: it is gone, unlike a
// server that could not be reached.
func isRefusal(err error) bool {
	return err != nil && (errors.Is(err, providers.ErrPermissionDenied) || errors.Is(err, providers.ErrInvalidConfig) ||
		errors.Is(err, providers.ErrNotFound))
}

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
// is free stays due, for the next round.
func (p *Provider) keepOnce(ctx context.Context, k *keeper) {
	p.mu.Lock()
	clients := make([]*storeClient, 0, len(p.clients)+len(p.retiring))
	for _, c := range p.clients {
		clients = append(clients, c)
	}
	clients = append(clients, p.retiring...)
	p.mu.Unlock()
	emptied := map[*storeClient]bool{}
	for _, c := range clients {
		due, holds := c.dueHeld(ctx)
		if !holds {
			emptied[c] = true
		}
		for _, t := range due {
			if !k.start(ctx, c, t) {
				c.unmark(t)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.retiring[:0]
	for _, c := range p.retiring {
		if !emptied[c] {
			kept = append(kept, c)
		}
	}
	p.retiring = kept
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

// namespaceOf is the namespace in a client's name "Kind/namespace/name";
// empty for a cluster-scoped one.
func namespaceOf(name string) string {
	_, rest, _ := strings.Cut(name, "/")
	ns, _, _ := strings.Cut(rest, "/")
	return ns
}

// retire keeps a client that left the cache while it holds tokens, so that
// the keeper renews them for their leases; it holds no reads.
func (p *Provider) retire(c *storeClient) {
	c.cache.clear()
	c.mu.Lock()
	holds := len(c.held) > 0
	c.mu.Unlock()
	if !holds {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.retiring) >= maxRetiring {
		p.retiring[0].loseAll()
		p.retiring = p.retiring[1:]
	}
	p.retiring = append(p.retiring, c)
}

// maxRetiring bounds the replaced clients kept for their tokens: a generator
// whose spec changes in a loop cannot grow it.
const maxRetiring = 256

// loseAll lets go of every held token, telling the owners of their leases.
func (c *storeClient) loseAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.held {
		t.lost = true
	}
	if len(c.held) > 0 {
		c.opts.tokenEnded(c.name)
	}
	c.held = nil
}

// OnTokenEnd is providers.TokenEndNotifier: f is called, with the store's
// name, when a held token's end becomes known or the token is lost. f must
// not block.
func (p *Provider) OnTokenEnd(f func(store string)) { p.opts.onTokenEnd.Store(&f) }

// currentToken is the token requests use now; empty for none.
func (c *storeClient) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return c.creds.staticToken
	}
	return c.cur.value
}

// TokenCustody keeps the tokens that own leases across restarts and leader
// changes (tokencustody.Store), by the ID of the client that holds them.
type TokenCustody interface {
	// Load returns the token kept for id.
	Load(ctx context.Context, id string) (string, bool, error)
	// Save keeps token for id.
	Save(ctx context.Context, id, token string) error
	// Delete forgets the token kept for id.
	Delete(ctx context.Context, id string) error
}

// WithTokenCustody keeps lease-owning tokens in tc, so that an operator that
// restarts, or a new leader, renews the tokens its predecessor logged in with
// instead of letting them, and their leases, expire.
func WithTokenCustody(tc TokenCustody) Option { return func(o *options) { o.custody = tc } }

// adopt takes over, once, the token a previous operator process kept for this
// client: a token the server still knows is held again, and renewed. A token
// the server refused is forgotten. A failure to read the record is tried
// again on the next call.
func (c *storeClient) adopt(ctx context.Context) {
	tc := c.opts.custody
	if tc == nil {
		return
	}
	c.custodyMu.Lock()
	defer c.custodyMu.Unlock()
	if c.adopted {
		return
	}
	tok, found, err := tc.Load(ctx, c.custodyID)
	if err != nil {
		return
	}
	if !found {
		c.adopted = true
		return
	}
	t, err := c.lookupToken(ctx, tok)
	if err != nil && !isRefusal(err) {
		return // the server is not there: tried again next time
	}
	c.adopted = true
	if err != nil {
		_ = tc.Delete(ctx, c.custodyID) // best effort: a dead record is dropped again at the next replacement
		return
	}
	c.kept = tok
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = append(c.held, t) // renewed for its leases; new requests log in afresh
}

// lookupToken reads what the server knows of a kept token: its accessor,
// what is left of its grant, the TTL a login grants, and whether it renews.
func (c *storeClient) lookupToken(ctx context.Context, tok string) (*loginToken, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	defer cancel()
	cl, err := c.api.CloneWithHeaders()
	if err != nil {
		return nil, fmt.Errorf("clone client: %w", err)
	}
	cl.SetToken(tok)
	sec, err := cl.Auth().Token().LookupSelfWithContext(ctx)
	c.opts.observe("lookup", resultOf(classify("lookup", "auth/token/lookup-self", err)))
	if err != nil || sec == nil {
		return nil, classify("lookup", "auth/token/lookup-self", err)
	}
	accessor, _ := sec.TokenAccessor()
	left, _ := sec.TokenTTL()
	renewable, _ := sec.TokenIsRenewable()
	t := &loginToken{value: tok, id: tokenID(accessor), ttl: seconds(sec.Data["creation_ttl"])}
	if t.ttl <= 0 {
		t.ttl = left
	}
	t.granted(c.opts.now(), left, renewable)
	t.end = time.Time{} // a lookup is no renewal: what it shows left says nothing of the max TTL
	if !renewable {
		t.end = t.expiresAt
	}
	return t, nil
}

// seconds reads a number of seconds from a server's JSON answer.
func seconds(v any) time.Duration {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return time.Duration(i) * time.Second
	case float64:
		return time.Duration(n) * time.Second
	}
	return 0
}

// persist keeps t in custody before it issues a lease, so that no lease
// exists whose token a restart would forget.
func (c *storeClient) persist(ctx context.Context, t *loginToken) error {
	tc := c.opts.custody
	if tc == nil {
		return nil
	}
	c.custodyMu.Lock()
	defer c.custodyMu.Unlock()
	if c.kept == t.value {
		return nil
	}
	if err := tc.Save(ctx, c.custodyID, t.value); err != nil {
		return fmt.Errorf("store %s: %w", c.name, err)
	}
	c.kept = t.value
	return nil
}

// forget drops the kept record of a token that ended.
func (c *storeClient) forget(ctx context.Context, t *loginToken) {
	tc := c.opts.custody
	if tc == nil {
		return
	}
	c.custodyMu.Lock()
	defer c.custodyMu.Unlock()
	if c.kept != t.value {
		return
	}
	if tc.Delete(ctx, c.custodyID) == nil {
		c.kept = ""
	}
}
