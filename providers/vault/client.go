package vault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openbao/openbao/api/v2"
	"golang.org/x/sync/singleflight"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// storeClient is the cached client of one store. It is shared by every
// reconcile that uses the store and safe for concurrent use.
type storeClient struct {
	api    *api.Client // carries the token; used for reads
	login  *api.Client // never carries a token; used for logins
	spec   *v1alpha1.VaultProvider
	creds  *credentials
	opts   *options
	name   string // "Kind/namespace/name", and "@namespace" for a view of a shared store; for messages
	base   string // "Kind/namespace/name" of the store
	tenant string // the namespace a view serves as itself; "" for the store's own identity
	reach  string // the path below the mount every key must lie in; "" for the whole mount
	// ownNamespace: a view whose OpenBao/Vault namespace is its tenant's own
	// (tenancy.namespace), whose 5xx answers may be the tenant's doing.
	ownNamespace bool
	report       func(store, tenant string, err error)
	cluster      bool // a ClusterSecretStore, shared by tenants
	tlsHash      string

	mu  sync.Mutex  // serializes logins and guards cur; held across a login
	cur *loginToken // the token obtained by login that requests use; nil for none

	heldMu    sync.Mutex    // guards held and retiredAt; never held across a request
	held      []*loginToken // tokens that own leases, kept alive for them (custody.go)
	retiredAt time.Time     // when the client left the provider's cache; zero while in it

	custodyMu sync.Mutex // guards adopted and kept: the custody record of this client
	custodyID string     // the client's ID in the token custody: its cache key
	adopted   bool       // the record a previous process kept was looked at
	adoptAt   time.Time  // when a failed look may be tried again
	kept      string     // the token the record holds; empty for none

	reads singleflight.Group
	cache readCache
	down  *health    // shared by the views of one store
	fair  *fairShare // shared by the views of one store

	mountInfo mountCache // the KV mounts keys were found in

	checkMu   sync.Mutex
	checkedAt time.Time // when the auth material was last compared with the cluster

	lastUsed atomic.Int64 // UnixNano of the last NewClient that handed it out
}

var _ providers.SecretsClient = (*handle)(nil)

// handle is what NewClient returns: a view of the shared storeClient for one
// namespace, whose requests count against that namespace's share of the
// store, and whose Close does not tear the shared client down.
type handle struct {
	*storeClient
	namespace string
}

// Close drops the caller's use; the shared client stays cached.
func (h *handle) Close(context.Context) error { return nil }

// GetSecret is storeClient.GetSecret on the handle's namespace's share.
func (h *handle) GetSecret(ctx context.Context, ref providers.RemoteRef) ([]byte, error) {
	return h.storeClient.GetSecret(withTenant(ctx, h.namespace), ref)
}

// GetSecretMap is storeClient.GetSecretMap on the handle's namespace's share.
func (h *handle) GetSecretMap(ctx context.Context, ref providers.RemoteRef) (map[string][]byte, error) {
	return h.storeClient.GetSecretMap(withTenant(ctx, h.namespace), ref)
}

// GetAllSecrets is storeClient.GetAllSecrets on the handle's namespace's share.
func (h *handle) GetAllSecrets(ctx context.Context, ref providers.FindRef) (map[string][]byte, error) {
	return h.storeClient.GetAllSecrets(withTenant(ctx, h.namespace), ref)
}

// PushSecret is storeClient.PushSecret on the handle's namespace's share.
func (h *handle) PushSecret(ctx context.Context, ref providers.PushRef, value []byte) (bool, error) {
	return h.storeClient.PushSecret(withTenant(ctx, h.namespace), ref, value)
}

// DeleteSecret is storeClient.DeleteSecret on the handle's namespace's share.
func (h *handle) DeleteSecret(ctx context.Context, ref providers.PushRef) error {
	return h.storeClient.DeleteSecret(withTenant(ctx, h.namespace), ref)
}

// Validate is storeClient.Validate on the handle's namespace's share.
func (h *handle) Validate(ctx context.Context) error {
	return h.storeClient.Validate(withTenant(ctx, h.namespace))
}

// revoke revokes the token this client obtained by login, so that a token
// nobody will use again does not live on in the server until its TTL ends. A
// static token (tokenSecretRef) belongs to the user and is left alone.
func (c *storeClient) revoke(ctx context.Context) {
	if c.creds.staticToken != "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.holds(c.cur) {
		return // a token that owns leases lives on for them (custody.go)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	defer cancel()
	err := c.api.Auth().Token().RevokeSelfWithContext(ctx, "")
	c.observe("revoke", resultOf(classify("revoke", "auth/token/revoke-self", err)))
	c.cur = nil
	c.api.ClearToken()
}

// Validate logs in when needed and looks the token up, so that a store is Ready
// only when its credentials work against the server.
func (c *storeClient) Validate(ctx context.Context) error {
	_, err := c.call(ctx, "lookup", "auth/token/lookup-self", func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Auth().Token().LookupSelfWithContext(ctx)
	})
	if errors.Is(err, providers.ErrPermissionDenied) {
		return fmt.Errorf("store %s: the token was refused (expired or revoked?): %w: %w", c.name, providers.ErrAuth, err)
	}
	return err
}

// ensureTokenFor returns a token that stays valid for a while yet, renewing
// or logging in when the current one is near its end, and for a request that
// issues a lease (lease) also when its end is too near for a lease to be
// issued under it. It returns the login token too, nil for a static one.
func (c *storeClient) ensureTokenFor(ctx context.Context, lease bool) (*loginToken, string, error) {
	if c.creds.staticToken != "" {
		return nil, c.creds.staticToken, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.now()
	if t := c.cur; t != nil && t.fresh(now) && (!lease || t.leaseWorthy(now)) {
		return t, t.value, nil
	}
	if t := c.cur; t != nil && t.extensible(now) {
		if err := c.renewLocked(ctx); err == nil && (!lease || t.leaseWorthy(now)) {
			return t, t.value, nil
		}
	}
	if err := c.loginLocked(ctx); err != nil {
		return nil, "", err
	}
	return c.cur, c.cur.value, nil
}

// loginLocked performs the auth method's login; c.mu is held.
func (c *storeClient) loginLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	defer cancel()
	body, err := c.creds.body(ctx)
	if err != nil {
		c.observe("login", "error")
		c.reportLogin(err)
		return err
	}
	cl := c.login
	if ns := c.spec.Auth.Namespace; ns != nil {
		cl = cl.WithNamespace(*ns)
	}
	sec, err := cl.Logical().WriteWithContext(ctx, c.creds.loginPath, body)
	if err != nil {
		c.observe("login", "error")
		err = fmt.Errorf("store %s: %w", c.name, loginError(c.creds.method, c.creds.loginPath, err))
		c.reportLogin(err)
		return err
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		c.observe("login", "error")
		return fmt.Errorf("store %s: %s login at %s returned no token: %w", c.name, c.creds.method, c.creds.loginPath, providers.ErrAuth)
	}
	if len(sec.Auth.ClientToken) > maxTokenLen {
		c.observe("login", "error")
		return fmt.Errorf("store %s: %s login at %s returned a token of %d bytes (at most %d): %w", c.name, c.creds.method,
			c.creds.loginPath, len(sec.Auth.ClientToken), maxTokenLen, providers.ErrAuth)
	}
	c.observe("login", "ok")
	c.reportLogin(nil)
	c.cur = newLoginToken(sec.Auth.ClientToken, sec.Auth.Accessor, time.Duration(sec.Auth.LeaseDuration)*time.Second,
		sec.Auth.Renewable, c.opts.now())
	c.api.SetToken(c.cur.value)
	return nil
}

// maxTokenLen bounds a token from a login: real ones are under 200 bytes. A
// tenant's server answering megabytes would otherwise be held, renewed and
// kept in the operator's namespace for every lease it issues.
const maxTokenLen = 4096

// renewLocked extends the current token; c.mu is held.
func (c *storeClient) renewLocked(ctx context.Context) error {
	granted, renewable, err := c.renewToken(ctx, c.cur)
	if err != nil {
		return err
	}
	c.grant(c.cur, granted, renewable)
	return nil
}

// grant records a renewal of t, and tells the owners of its leases when the
// renewal shows t's end.
func (c *storeClient) grant(t *loginToken, d time.Duration, renewable bool) {
	t.granted(c.opts.now(), d, renewable)
	if !t.knownEnd().IsZero() && c.holds(t) {
		c.opts.tokenEnded(c.storeName())
	}
}

// dropToken forgets a token the server refused, unless another goroutine has
// already replaced it. A refused token that owned leases took them with it.
func (c *storeClient) dropToken(refused string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.value == refused {
		if c.holds(c.cur) && c.cur.markLost() {
			c.opts.tokenEnded(c.storeName())
		}
		c.cur = nil
		c.api.ClearToken()
	}
}

// call runs one request with a valid token and a timeout. A 403 on a token
// obtained by login leads to one fresh login and one retry: the token may have
// been revoked or the server restarted.
func (c *storeClient) call(ctx context.Context, op, path string, fn func(context.Context, *api.Client) (*api.Secret, error)) (*api.Secret, error) {
	sec, _, err := c.do(ctx, request{op: op, path: path, fn: fn})
	return sec, err
}

// request is one request to the server. A lease request runs with a token
// fit to own a lease, held (and kept in custody) before the request is sent,
// so that no lease exists whose token the operator could forget or revoke.
type request struct {
	op, path string
	lease    bool
	fn       func(context.Context, *api.Client) (*api.Secret, error)
}

// do runs req through the breaker, the namespace's share and the token
// lifecycle; it returns the login token the request ran with (nil for a
// static token).
func (c *storeClient) do(ctx context.Context, req request) (*api.Secret, *loginToken, error) {
	for attempt := 0; ; attempt++ {
		if err := c.down.check(c.opts.now(), c.name, tenantOf(ctx)); err != nil {
			c.observe(req.op, "unavailable")
			return nil, nil, err
		}
		release, err := c.admit(ctx)
		if err != nil {
			c.observe(req.op, "throttled")
			return nil, nil, err
		}
		owner, tok, cl, err := c.tokenFor(ctx, req.lease)
		if err != nil {
			release()
			return nil, nil, err
		}
		rctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
		sec, err := req.fn(rctx, cl)
		cancel()
		release()
		if err == nil {
			c.observe(req.op, "ok")
			c.down.note(c.opts.now(), tenantOf(ctx), nil, c.ownNamespace)
			return sec, owner, nil
		}
		cerr := classify(req.op, req.path, err)
		c.observe(req.op, resultOf(cerr))
		c.down.note(c.opts.now(), tenantOf(ctx), cerr, c.ownNamespace)
		if errors.Is(cerr, providers.ErrPermissionDenied) && c.creds.staticToken == "" && attempt == 0 && !c.tokenWorks(ctx) {
			c.dropToken(tok)
			continue
		}
		return nil, nil, fmt.Errorf("store %s: %w", c.name, cerr)
	}
}

// tokenFor returns the token a request runs with (fit to own a lease, and
// held, for a lease request) and the client that sends it.
func (c *storeClient) tokenFor(ctx context.Context, lease bool) (*loginToken, string, *api.Client, error) {
	owner, tok, err := c.ensureTokenFor(ctx, lease)
	if err == nil && lease {
		err = c.reserve(ctx, owner)
	}
	if err != nil {
		if errors.Is(err, providers.ErrUnavailable) { // only the server's failures; a refused or impossible login says nothing of its health
			c.down.note(c.opts.now(), tenantOf(ctx), err, c.ownNamespace)
		}
		return nil, "", nil, err
	}
	if !lease || owner == nil {
		return owner, tok, c.api, nil
	}
	cl, err := c.withToken(owner.value) // not the current token, which another request may replace
	return owner, tok, cl, err
}

// withToken is a client of the store's server, namespace and headers that
// sends token.
func (c *storeClient) withToken(token string) (*api.Client, error) {
	cl, err := c.api.CloneWithHeaders()
	if err != nil {
		return nil, fmt.Errorf("clone client: %w", err)
	}
	cl.SetToken(token)
	return cl, nil
}

// admit takes a slot of the namespace's requests under way and one request of
// its share of the store; release gives the slot back.
func (c *storeClient) admit(ctx context.Context) (release func(), err error) {
	ns := tenantOf(ctx)
	release, err = c.opts.inFlight.acquire(c.name, ns)
	if err != nil {
		return nil, err
	}
	if err := c.fair.admit(ctx, c.name, ns); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// tokenWorks reports whether the current token is still accepted. A 403 on a
// path the policy does not grant is no reason to log in again: on a shared
// store, a tenant reading forbidden paths would otherwise make the store log
// in over and over, holding everyone else's requests behind the login.
func (c *storeClient) tokenWorks(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.opts.requestTimeout)
	defer cancel()
	_, err := c.api.Auth().Token().LookupSelfWithContext(ctx)
	c.observe("lookup", resultOf(classify("lookup", "auth/token/lookup-self", err)))
	return err == nil
}

// storeName is the store's "Kind/namespace/name", also for a view of it:
// what token-end notifications name, so that a generator's users are found.
func (c *storeClient) storeName() string {
	if c.base != "" {
		return c.base
	}
	return c.name
}

// observe counts one request of op with its result, and for a view of a
// shared store also against the namespace it serves.
func (c *storeClient) observe(op, result string) {
	c.opts.observe(op, result)
	if c.tenant != "" && c.opts.tenantObserver != nil {
		c.opts.tenantObserver(c.base, c.tenant, op, result)
	}
}

// reportLogin records the outcome of a view's login in its store's book.
func (c *storeClient) reportLogin(err error) {
	if c.report != nil && c.tenant != "" {
		c.report(c.base, c.tenant, err)
	}
}

// resultOf names the class of an error for metrics.
func resultOf(err error) string {
	switch {
	case errors.Is(err, providers.ErrNotFound):
		return "not_found"
	case errors.Is(err, providers.ErrPermissionDenied):
		return "denied"
	case errors.Is(err, providers.ErrUnavailable):
		return "unavailable"
	case err == nil:
		return "ok"
	default:
		return "error"
	}
}
