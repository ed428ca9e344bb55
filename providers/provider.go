package providers

import (
	"context"
	"regexp"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Provider hands out clients for stores.
type Provider interface {
	// NewClient returns a client for the store. namespace is the namespace of the
	// object that uses the store; a ClusterSecretStore's references that leave
	// their namespace empty resolve in it. Implementations may hand out a shared,
	// cached client; callers must still Close what they get.
	NewClient(ctx context.Context, store v1alpha1.GenericStore, kube Kube, namespace string) (SecretsClient, error)
	// Release drops what the provider holds for a store that was deleted.
	Release(kind v1alpha1.SecretStoreKind, namespace, name string)
}

// TenantReporter is implemented by providers whose ClusterSecretStores may
// serve each namespace as itself (a tenancy section, or referent auth): such
// a store has no identity of its own to validate, and reports instead how
// each namespace's last login went.
type TenantReporter interface {
	// PerNamespace reports whether store serves each namespace as itself.
	PerNamespace(store v1alpha1.GenericStore) bool
	// Tenants lists the namespaces the store ("Kind/namespace/name") served
	// since the operator started, by name.
	Tenants(store string) []TenantLogin
}

// TenantLogin is the outcome of one namespace's last login to a store that
// serves each namespace as itself.
type TenantLogin struct {
	// Namespace that logged in.
	Namespace string
	// Err is why its last login failed; nil when it worked.
	Err error
}

// SecretsClient reads from one store.
type SecretsClient interface {
	// GetSecret returns one value: a property of the remote secret, or the whole
	// secret as JSON when ref.Property is empty.
	GetSecret(ctx context.Context, ref RemoteRef) ([]byte, error)
	// GetSecretMap returns every property of a remote secret (or of the object at
	// ref.Property); values that are not strings are JSON-encoded.
	GetSecretMap(ctx context.Context, ref RemoteRef) (map[string][]byte, error)
	// GetAllSecrets returns every remote secret that ref selects, keyed by its
	// path below the mount, each value the secret's data as JSON.
	GetAllSecrets(ctx context.Context, ref FindRef) (map[string][]byte, error)
	// PushSecret writes value at ref's key and property. It refuses
	// (ErrNotOwned) a remote secret baosync did not create: KV v2 secrets carry
	// a marker, for KV v1 the caller says (ref.Owned). With ref.IfNotExists an
	// existing secret is left as it is. created reports a new remote secret.
	PushSecret(ctx context.Context, ref PushRef, value []byte) (created bool, err error)
	// DeleteSecret removes ref's property from a remote secret baosync created,
	// and the secret itself when no property is left.
	DeleteSecret(ctx context.Context, ref PushRef) error
	// Validate checks that the store can log in.
	Validate(ctx context.Context) error
	// Close releases the client. With a cached client it only drops the caller's use.
	Close(ctx context.Context) error
}

// RemoteRef addresses a remote secret or one property of it.
type RemoteRef struct {
	// Key is the remote path as the user wrote it.
	Key string
	// Property selects a value inside the secret; empty selects all.
	Property string
	// Version pins a KV v2 version; empty is the latest.
	Version string
	// Metadata reads the secret's KV v2 custom metadata instead of its data.
	Metadata bool
	// MaxAge lets the client answer from a read of the same path and version
	// made at most MaxAge ago (for any object using the store); 0 always asks
	// the server. It is what makes N objects on one path cost one read per
	// refresh window.
	MaxAge time.Duration
}

// String names the reference for messages; it never holds a value.
func (r RemoteRef) String() string {
	s := r.Key
	if r.Version != "" {
		s += "@v" + r.Version
	}
	if r.Property != "" {
		s += "#" + r.Property
	}
	return s
}

// FindRef selects remote secrets.
type FindRef struct {
	// Path limits the search to secrets under it; empty searches the whole mount.
	Path string
	// Name, when set, must match the secret's path below the mount.
	Name *regexp.Regexp
	// Tags must all be present in the secret's custom metadata.
	Tags map[string]string
	// MaxAge is as in RemoteRef, for the reads of the found secrets.
	MaxAge time.Duration
}

// PushRef addresses a property of a remote secret to write.
type PushRef struct {
	// Key is the remote path.
	Key string
	// Property inside the remote secret; empty makes the pushed value, a JSON
	// object, the whole remote secret (as in ESO).
	Property string
	// IfNotExists leaves an existing remote secret as it is.
	IfNotExists bool
	// Owned says the caller created this remote secret earlier; it is how KV v1
	// secrets, which have no metadata to mark, are known to be baosync's.
	Owned bool
	// Owner names the object that pushes ("namespace/name"); KV v2 secrets
	// record it with the marker, and only the same owner may update or
	// delete them later.
	Owner string
	// OwnerUID is the pushing object's UID, recorded for audit.
	OwnerUID string
	// AdoptESO lets the push take over a remote secret that External Secrets
	// Operator pushed (its marker managed-by=external-secrets): the marker
	// becomes the owner's. Never a secret with no marker or another one.
	AdoptESO bool
	// OnAdopt, when set, is called after a remote secret was taken over from
	// ESO, so that the caller can record it.
	OnAdopt func()
}

// DynamicClient issues dynamic secrets (database credentials, certificates,
// tokens) and keeps their leases. A SecretsClient that supports it also
// implements it; callers type-assert.
type DynamicClient interface {
	// Generate sends one request to req.Path and returns the values and the
	// lease behind them. Paths of the server's own configuration (sys/) are
	// refused, and auth/ paths unless the result is the auth block.
	Generate(ctx context.Context, req DynamicRequest) (*DynamicSecret, error)
	// RenewLease asks for the lease to be extended by increment and returns
	// the lease as granted; the server may grant less (its max TTL).
	// ErrLeaseGone means the lease cannot be renewed any more.
	RenewLease(ctx context.Context, path, leaseID string, increment time.Duration) (Lease, error)
	// RevokeLease revokes the lease; a lease already gone is no error.
	RevokeLease(ctx context.Context, path, leaseID string) error
	// TokenEnd says how long the token that owns a lease (Lease.Token) can
	// live: the server revokes every lease a token created when the token
	// ends. held is false when this client does not keep that token alive
	// (the operator restarted, or the token was refused): its leases end
	// whenever the token does, unknown when. With held true, a zero end
	// means the token is renewed for as long as its leases are used.
	TokenEnd(ctx context.Context, token string) (end time.Time, held bool)
}

// TokenEndNotifier is implemented by providers that keep lease-owning tokens
// alive: f is called with the store name ("Kind/namespace/name", as the
// provider's errors show it) whenever such a token's end becomes known or the
// token is lost, so that the owners of its leases issue new ones in time.
type TokenEndNotifier interface {
	OnTokenEnd(f func(store string))
}

// DynamicRequest is one request for a dynamic secret.
type DynamicRequest struct {
	// Path is the server path, e.g. "database/creds/app" or "pki/issue/web".
	Path string
	// Method is GET (a read, the default), POST or PUT (a write with Params).
	Method string
	// Params are the JSON body of a write.
	Params map[string]any
	// Query are the query-string parameters of a GET.
	Query map[string][]string
	// Result selects the part of the answer: Data (default), Auth or Raw.
	Result string
}

// DynamicSecret is what Generate returns.
type DynamicSecret struct {
	// Values by key; strings as they are, anything else as JSON.
	Values map[string][]byte
	// Lease behind the values; its ID is empty when the server gave none.
	Lease Lease
}

// Lease is a lease as the server granted it.
type Lease struct {
	// ID of the lease; it starts with the path that issued it.
	ID string
	// Duration is the TTL granted.
	Duration time.Duration
	// Renewable says whether the server allows renewal.
	Renewable bool
	// Token identifies the token that owns the lease (a hash of its
	// accessor, never the token); empty for a token the user supplied.
	Token string
	// TokenEnd is when the owning token ends, when known at issue time
	// (a token that cannot be renewed further); zero otherwise.
	TokenEnd time.Time
}
