package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/baosync/baosync/providers"
)

// Token custody. OpenBao and Vault revoke every lease a token created when
// that token expires or is revoked, so a credential in a Secret lives no longer
// than the login token that issued it. A token that issues a lease is
// therefore held, from before the lease exists: renewed ahead of its end by
// Provider.Start's keeper (keeper.go), not only when a request happens to need
// it; never revoked when its client is replaced or released; kept in the
// custody (TokenCustody) across restarts and leader changes; and never used for
// a new lease once its end is near (its max TTL reached, or not renewable), so
// that later leases belong to a fresh login. When a held token's end becomes
// known, or the token is lost, the provider tells the owners of its leases
// (OnTokenEnd), who issue new credentials before it ends.

// maxHeld bounds the tokens one client keeps alive; past it the oldest is let
// go (its leases are reported lost and issued anew). A client holds one token
// per login that issued leases, and a token is dropped once it ended.
const maxHeld = 8

// adoptRetry is how long a failed take-over of a kept token waits before the
// next try, so that a server that hangs costs one request timeout per period.
const adoptRetry = 30 * time.Second

// TokenCustody keeps the tokens that own leases across restarts and leader
// changes (tokencustody.Store), by the ID of the client that holds them.
type TokenCustody interface {
	// Load returns the token kept for id.
	Load(ctx context.Context, id string) (string, bool, error)
	// Save keeps token for id, the client now of owner (its store name,
	// "Kind/namespace/name") in namespace (empty for a cluster-scoped one).
	Save(ctx context.Context, id, owner, namespace, token string) error
	// Delete forgets the token kept for id.
	Delete(ctx context.Context, id string) error
}

// WithTokenCustody keeps lease-owning tokens in tc, so that an operator that
// restarts, or a new leader, renews the tokens its predecessor logged in with
// instead of letting them, and their leases, expire.
func WithTokenCustody(tc TokenCustody) Option { return func(o *options) { o.custody = tc } }

// OnTokenEnd is providers.TokenEndNotifier: f is called, with the store's
// name, when a held token's end becomes known or the token is lost. f must
// not block.
func (p *Provider) OnTokenEnd(f func(store string)) { p.opts.onTokenEnd.Store(&f) }

// holds reports whether t owns leases.
func (c *storeClient) holds(t *loginToken) bool {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	return slices.Contains(c.held, t)
}

// holdsAny reports whether the client keeps any token for leases.
func (c *storeClient) holdsAny() bool {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	return len(c.held) > 0
}

// reserve holds t before it issues a lease, and keeps it in custody: a lease
// must never exist whose token the operator would revoke, let expire, or
// forget at a restart. A nil t (the user's static token) is the user's.
func (c *storeClient) reserve(ctx context.Context, t *loginToken) error {
	if t == nil {
		return nil
	}
	c.hold(t)
	return c.persist(ctx, t)
}

// hold keeps t alive for its leases.
func (c *storeClient) hold(t *loginToken) {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	if slices.Contains(c.held, t) {
		return
	}
	c.held = append(c.held, t)
	if len(c.held) > maxHeld {
		if c.held[0].markLost() {
			c.opts.tokenEnded(c.storeName())
		}
		c.held = c.held[1:]
	}
}

// TokenEnd is providers.DynamicClient.TokenEnd: a user's static token is the
// user's to keep; a held token ends at its known end, or never while renewed.
func (c *storeClient) TokenEnd(ctx context.Context, token string) (time.Time, bool) {
	if c.creds.staticToken != "" {
		return time.Time{}, true
	}
	c.adopt(ctx)
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	for _, t := range c.held {
		if t.id == token && token != "" && !t.isLost() {
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
	cl, err := c.withToken(t.value)
	if err != nil {
		return 0, false, err
	}
	sec, err := cl.Auth().Token().RenewSelfWithContext(ctx, int(t.ttl.Seconds()))
	if err != nil || sec == nil || sec.Auth == nil {
		c.observe("renew", "error")
		return 0, false, fmt.Errorf("renew token: %w", classify("renew", "auth/token/renew-self", err))
	}
	c.observe("renew", "ok")
	return time.Duration(sec.Auth.LeaseDuration) * time.Second, sec.Auth.Renewable, nil
}

// isRefusal reports whether the server refused a token: it is gone, unlike a
// server that could not be reached.
func isRefusal(err error) bool {
	return err != nil && (errors.Is(err, providers.ErrPermissionDenied) || errors.Is(err, providers.ErrInvalidConfig) ||
		errors.Is(err, providers.ErrNotFound))
}

// currentToken is the token requests use now; empty for none.
func (c *storeClient) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return c.creds.staticToken
	}
	return c.cur.value
}

// adopt takes over the token a previous operator process kept for this
// client: a token the server still knows is held again, and renewed; a token
// it refused is forgotten. A failure to read the record or to reach the
// server is tried again after adoptRetry.
func (c *storeClient) adopt(ctx context.Context) {
	tc := c.opts.custody
	if tc == nil || c.creds.staticToken != "" {
		return
	}
	c.custodyMu.Lock()
	defer c.custodyMu.Unlock()
	if c.adopted || c.opts.now().Before(c.adoptAt) {
		return
	}
	c.adoptAt = c.opts.now().Add(adoptRetry)
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
		return // the server is not there
	}
	c.adopted = true
	if err != nil {
		_ = tc.Delete(ctx, c.custodyID) // best effort: a record is replaced at the next lease anyway
		return
	}
	c.kept = tok
	c.hold(t) // renewed for its leases; new requests log in afresh
}

// lookupToken reads what the server knows of a kept token: its accessor,
// what is left of its grant, the TTL a login grants, and whether it renews.
// A lookup is no renewal: what it shows left says nothing of the max TTL.
func (c *storeClient) lookupToken(ctx context.Context, tok string) (*loginToken, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	defer cancel()
	cl, err := c.withToken(tok)
	if err != nil {
		return nil, err
	}
	sec, err := cl.Auth().Token().LookupSelfWithContext(ctx)
	c.observe("lookup", resultOf(classify("lookup", "auth/token/lookup-self", err)))
	if err != nil || sec == nil {
		return nil, classify("lookup", "auth/token/lookup-self", err)
	}
	accessor, _ := sec.TokenAccessor()
	left, _ := sec.TokenTTL()
	renewable, _ := sec.TokenIsRenewable()
	t := newLoginToken(tok, accessor, left, renewable, c.opts.now())
	if ttl := seconds(sec.Data["creation_ttl"]); ttl > 0 {
		t.ttl = ttl // what a renewal asks for: the login's TTL, not what is left
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

// persist keeps t in custody.
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
	if err := tc.Save(ctx, c.custodyID, c.name, namespaceOf(c.name), t.value); err != nil {
		return fmt.Errorf("store %s: %w", c.name, err)
	}
	c.kept = t.value
	return nil
}

// forget drops the custody record of a token that ended, if the record still
// holds it (another client of the same ID may have replaced it).
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
	if kept, found, err := tc.Load(ctx, c.custodyID); err != nil || (found && kept != t.value) {
		return
	}
	if tc.Delete(ctx, c.custodyID) == nil {
		c.kept = ""
	}
}
