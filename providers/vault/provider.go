package vault

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// Provider hands out cached clients for OpenBao and Vault stores.
type Provider struct {
	opts options

	mu       sync.Mutex
	clients  map[string]*storeClient // by cache key
	byStore  map[string]string       // client identity (store, and namespace for a view) -> its current cache key
	retiring []*storeClient          // replaced or released, kept for the tokens they hold
	shared   map[string]*storeShared // by store: what the views of one store share
	tenants  map[string]*tenantBook  // by store: the namespaces a store serves as themselves
}

var _ providers.Provider = (*Provider)(nil)

// options are the provider's settings; see the With* functions.
type options struct {
	requestTimeout   time.Duration
	authRecheck      time.Duration
	ownTokenFile     string
	operatorIdentity bool
	inFlight         *inFlight
	bigAnswers       chan struct{}
	cacheBudget      *cacheBudget
	maxReadAge       time.Duration
	rateLimit        float64
	rateBurst        int
	namespaceRate    float64
	namespaceBurst   int
	observer         func(operation, result string)
	tenantObserver   func(store, namespace, operation, result string)
	clock            func() time.Time
	onTokenEnd       atomic.Pointer[func(store string)]
	custody          TokenCustody
}

// tokenEnded tells the OnTokenEnd callback, if any, about store.
func (o *options) tokenEnded(store string) {
	if f := o.onTokenEnd.Load(); f != nil {
		(*f)(store)
	}
}

func (o *options) now() time.Time { return o.clock() }

func (o *options) observe(op, result string) {
	if o.observer != nil {
		o.observer(op, result)
	}
}

// Option changes a Provider setting.
type Option func(*options)

// WithRequestTimeout bounds every request to the server (default 10s).
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.requestTimeout = d } }

// WithAuthRecheck sets how often a cached client compares its auth material
// with the cluster, so that a rotated credential takes effect (default 1m).
func WithAuthRecheck(d time.Duration) Option { return func(o *options) { o.authRecheck = d } }

// WithMaxReadAge caps how long a read value is kept in memory to serve other
// reads of the same path (default DefaultMaxReadAge; 0 keeps nothing); see
// providers.RemoteRef.MaxAge.
func WithMaxReadAge(d time.Duration) Option { return func(o *options) { o.maxReadAge = d } }

// DefaultMaxReadAge is short next to the default refresh interval (1h): a
// shared read may make a target up to this much staler than its interval
// promises, and credential rotations are sized to the interval. Paths shared
// by many objects still cost at most one read per path per DefaultMaxReadAge.
const DefaultMaxReadAge = 5 * time.Minute

// WithRateLimit limits requests to the server per store (0: unlimited).
func WithRateLimit(perSecond float64, burst int) Option {
	return func(o *options) { o.rateLimit, o.rateBurst = perSecond, burst }
}

// WithNamespaceRateLimit is the share of one store's requests that one
// namespace may use (0: no per-namespace limit). A namespace past its share
// gets providers.ErrThrottled at once, without holding a worker.
func WithNamespaceRateLimit(perSecond float64, burst int) Option {
	return func(o *options) { o.namespaceRate, o.namespaceBurst = perSecond, burst }
}

// WithNamespaceMaxInFlight bounds the requests one namespace has under way
// at once across all stores (0: no bound); past it, providers.ErrThrottled.
func WithNamespaceMaxInFlight(n int) Option {
	return func(o *options) { o.inFlight = &inFlight{max: n} }
}

// WithRequestObserver is called once per request with its operation (login,
// renew, lookup, read) and result (ok, not_found, denied, unavailable, error).
func WithRequestObserver(f func(operation, result string)) Option {
	return func(o *options) { o.observer = f }
}

// WithTenantObserver is called once per request of a client that serves a
// namespace as itself (a shared store's view), with the store
// ("Kind/namespace/name"), that namespace, the operation and the result.
func WithTenantObserver(f func(store, namespace, operation, result string)) Option {
	return func(o *options) { o.tenantObserver = f }
}

// WithOwnTokenFile is the operator's own projected ServiceAccount token (with
// a Vault audience, never the API server's), used by a ClusterSecretStore's
// Kubernetes auth without a serviceAccountRef or secretRef.
func WithOwnTokenFile(path string) Option { return func(o *options) { o.ownTokenFile = path } }

// WithOperatorIdentity lets ClusterSecretStores log in with the operator's own
// token (WithOwnTokenFile). Off by default; a namespaced SecretStore never may.
func WithOperatorIdentity(allowed bool) Option {
	return func(o *options) { o.operatorIdentity = allowed }
}

// WithClock replaces time.Now, for tests of token expiry.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// DefaultOwnTokenFile is where the manifests mount the operator's projected
// token with the audience "vault".
const DefaultOwnTokenFile = "/var/run/secrets/baosync.io/vault/token"

// New returns a Provider.
func New(opts ...Option) *Provider {
	p := &Provider{
		opts: options{
			requestTimeout: 10 * time.Second,
			authRecheck:    time.Minute,
			maxReadAge:     DefaultMaxReadAge,
			ownTokenFile:   DefaultOwnTokenFile,
			clock:          time.Now,
			inFlight:       &inFlight{},
			bigAnswers:     make(chan struct{}, 2),
			cacheBudget:    &cacheBudget{max: 64 << 20},
		},
		clients: map[string]*storeClient{},
		byStore: map[string]string{},
		shared:  map[string]*storeShared{},
		tenants: map[string]*tenantBook{},
	}
	for _, o := range opts {
		o(&p.opts)
	}
	return p
}

// NewClient returns the cached client of the store, building it on first use,
// after the store changes, and when the auth material it was built from changed.
// A store that serves each namespace as itself (PerNamespace) has a client per
// namespace.
func (p *Provider) NewClient(ctx context.Context, store v1alpha1.GenericStore, kube providers.Kube, namespace string) (providers.SecretsClient, error) {
	if store.GetSpec().Provider.Vault == nil {
		return nil, fmt.Errorf("store %s/%s has no vault provider: %w", store.GetNamespace(), store.GetName(), providers.ErrInvalidConfig)
	}
	base := fmt.Sprintf("%s/%s/%s", store.GetKind(), store.GetNamespace(), store.GetName())
	vw, err := viewOf(ctx, store, kube, namespace)
	if err != nil {
		p.tenantResult(base, namespace, err)
		return nil, fmt.Errorf("store %s: %w", base, err)
	}
	identity := base
	if vw.tenant != "" {
		identity = base + "@" + vw.tenant
	}
	key := fmt.Sprintf("%s/%s/%d", identity, store.GetUID(), store.GetGeneration())
	if vw.tenant != "" {
		key += "/" + vw.fingerprint() // a namespace's labels may change what its view is
	}

	p.mu.Lock()
	c := p.clients[key]
	p.mu.Unlock()
	r := &refResolver{kube: kube, store: store}
	if c != nil {
		fresh, err := c.materialUnchanged(ctx, r)
		if err != nil {
			p.tenantResult(base, vw.tenant, err)
			return nil, err
		}
		if fresh {
			c.used(p.opts.now())
			return &handle{storeClient: c, namespace: namespace}, nil
		}
	}
	c, err = p.build(ctx, r, vw, base, identity, key)
	if err != nil {
		p.tenantResult(base, vw.tenant, err)
		return nil, err
	}
	p.mu.Lock()
	var replaced *storeClient
	if old, ok := p.byStore[identity]; ok && old != key {
		replaced = p.clients[old]
		delete(p.clients, old)
	} else if prev := p.clients[key]; prev != nil && prev != c {
		replaced = prev // same store, new auth material
	}
	p.clients[key] = c
	p.byStore[identity] = key
	p.mu.Unlock()
	if replaced != nil {
		replaced.revoke(ctx) // the credentials changed: the old token is not needed, unless it owns leases
		p.retire(replaced)
	}
	c.used(p.opts.now())
	return &handle{storeClient: c, namespace: namespace}, nil
}

// Release drops the cached client of a store that was deleted and revokes
// the token it obtained by login.
func (p *Provider) Release(kind v1alpha1.SecretStoreKind, namespace, name string) {
	base := fmt.Sprintf("%s/%s/%s", kind, namespace, name)
	var gone []*storeClient
	p.mu.Lock()
	for identity, key := range p.byStore {
		if identity == base || strings.HasPrefix(identity, base+"@") {
			if c := p.clients[key]; c != nil {
				gone = append(gone, c)
			}
			delete(p.clients, key)
			delete(p.byStore, identity)
		}
	}
	delete(p.shared, base)
	delete(p.tenants, base)
	p.mu.Unlock()
	p.revokeAll(gone)
	for _, c := range gone {
		if c.holdsAny() {
			p.retire(c) // kept for the tokens its leases need
		}
	}
}

// build reads the store's TLS and auth material and creates the client of
// one view of it.
func (p *Provider) build(ctx context.Context, r *refResolver, vw view, base, identity, key string) (*storeClient, error) {
	v := vw.spec
	m, err := readTLS(ctx, r, v)
	if err != nil {
		return nil, err
	}
	creds, err := resolveCredentials(ctx, r, &v.Auth, &p.opts)
	if err != nil {
		return nil, err
	}
	apiClient, err := newAPIClient(v, m, &p.opts)
	if err != nil {
		return nil, err
	}
	loginClient, err := apiClient.CloneWithHeaders() // the store's namespace and headers apply to logins too
	if err != nil {
		return nil, fmt.Errorf("clone client: %w", err)
	}
	loginClient.ClearToken()
	if creds.staticToken != "" {
		apiClient.SetToken(creds.staticToken)
	}
	sh := &storeShared{fair: newFairShare(&p.opts), down: &health{}}
	if vw.tenant != "" {
		sh = p.sharedOf(base) // the views of one store share its server
	}
	return &storeClient{
		api: apiClient, login: loginClient, spec: v.DeepCopy(), creds: creds, opts: &p.opts,
		name: identity, base: base, tenant: vw.tenant, reach: vw.reach, ownNamespace: vw.ownNamespace, report: p.tenantResult,
		cluster: r.store.GetKind() == v1alpha1.SecretStoreKindCluster, tlsHash: fingerprint(m.caBundle, m.clientCert, m.clientKey), checkedAt: p.opts.now(),
		cache: readCache{entries: map[string]cachedRead{}, budget: p.opts.cacheBudget}, fair: sh.fair, down: sh.down,
		custodyID: key + "/" + creds.fingerprint, // new auth material, a new record: the old client's token is not the new one's
	}, nil
}

// materialUnchanged compares, at most once per authRecheck, the auth and TLS
// material in the cluster with what the client was built from.
func (c *storeClient) materialUnchanged(ctx context.Context, r *refResolver) (bool, error) {
	c.checkMu.Lock()
	defer c.checkMu.Unlock()
	if c.opts.now().Sub(c.checkedAt) < c.opts.authRecheck {
		return true, nil
	}
	m, err := readTLS(ctx, r, c.spec)
	if err != nil {
		return false, err
	}
	creds, err := resolveCredentials(ctx, r, &c.spec.Auth, c.opts)
	if err != nil {
		return false, err
	}
	c.checkedAt = c.opts.now()
	return creds.fingerprint == c.creds.fingerprint && fingerprint(m.caBundle, m.clientCert, m.clientKey) == c.tlsHash, nil
}
