package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

var _ providers.DynamicClient = (*handle)(nil)

// Generate is storeClient.Generate on the handle's namespace's share.
func (h *handle) Generate(ctx context.Context, req providers.DynamicRequest) (*providers.DynamicSecret, error) {
	return h.storeClient.Generate(withTenant(ctx, h.namespace), req)
}

// RenewLease is storeClient.RenewLease on the handle's namespace's share.
func (h *handle) RenewLease(ctx context.Context, path, leaseID string, increment time.Duration) (providers.Lease, error) {
	return h.storeClient.RenewLease(withTenant(ctx, h.namespace), path, leaseID, increment)
}

// RevokeLease is storeClient.RevokeLease on the handle's namespace's share.
func (h *handle) RevokeLease(ctx context.Context, path, leaseID string) error {
	return h.storeClient.RevokeLease(withTenant(ctx, h.namespace), path, leaseID)
}

// TokenEnd is storeClient.TokenEnd; it sends no request.
func (h *handle) TokenEnd(ctx context.Context, token string) (time.Time, bool) {
	return h.storeClient.TokenEnd(ctx, token)
}

// dynamicPath checks a generator's path. sys/ is the server's own
// configuration (policies, mounts, leases of everyone): never a generator's.
// auth/ is reached only for its auth block (auth/token/create, a login),
// never to read or change an auth method's configuration. Dot segments are
// refused so that a path cannot climb out of what it names.
func dynamicPath(path, result string) (string, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return "", fmt.Errorf("empty path: %w", providers.ErrInvalidRef)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("path %q has an empty or dot segment: %w", path, providers.ErrInvalidRef)
		}
	}
	// The server routes leading segments that name an OpenBao/Vault
	// namespace to that namespace ("team-a/sys/policies/acl"), and the
	// operator cannot know which segments do: sys and auth are refused at
	// any depth, not only as the first segment.
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "sys":
			return "", fmt.Errorf("path %q reaches the server's configuration (sys/), never a generator's: %w", path, providers.ErrInvalidRef)
		case seg == "auth" && result != "Auth":
			return "", fmt.Errorf("path %q reaches auth/, served only with resultType Auth: %w", path, providers.ErrInvalidRef)
		}
	}
	return p, nil
}

// Generate sends one request for a dynamic secret: a read for GET, a write of
// req.Params for POST and PUT. LIST and DELETE are refused: they create no
// secret, and a DELETE on a tenant's behalf could destroy one.
func (c *storeClient) Generate(ctx context.Context, req providers.DynamicRequest) (*providers.DynamicSecret, error) {
	path, err := dynamicPath(req.Path, req.Result)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(req.Method)
	var fn func(context.Context, *api.Client) (*api.Secret, error)
	switch method {
	case "", "GET":
		fn = func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
			return cl.Logical().ReadWithDataWithContext(ctx, path, req.Query)
		}
	case "POST", "PUT":
		fn = func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
			return cl.Logical().WriteWithContext(ctx, path, req.Params)
		}
	default:
		return nil, fmt.Errorf("method %s creates no secret; use GET, POST or PUT: %w", method, providers.ErrInvalidRef)
	}
	c.adopt(ctx) // before a new token replaces the kept one in the custody
	sec, owner, err := c.do(ctx, request{op: "generate", path: path, lease: true, fn: fn})
	if err != nil {
		return nil, err
	}
	if sec == nil {
		return nil, fmt.Errorf("store %s: %s answered nothing: %w", c.name, path, providers.ErrNotFound)
	}
	out, err := dynamicResult(sec, req.Result)
	if err != nil {
		return nil, fmt.Errorf("store %s: %s: %w", c.name, path, err)
	}
	// A lease dies with the token that issued it, and so does a token made
	// under it (resultType Auth), which has no lease ID.
	if (out.Lease.ID != "" || req.Result == "Auth") && owner != nil {
		out.Lease.Token, out.Lease.TokenEnd = owner.id, owner.knownEnd()
	}
	return out, nil
}

// dynamicResult picks the values and the lease out of an answer.
func dynamicResult(sec *api.Secret, result string) (*providers.DynamicSecret, error) {
	out := &providers.DynamicSecret{Values: map[string][]byte{}}
	var fields map[string]any
	switch result {
	case "Auth":
		if sec.Auth == nil {
			return out, nil
		}
		fields = map[string]any{"client_token": sec.Auth.ClientToken, "accessor": sec.Auth.Accessor,
			"policies": sec.Auth.Policies, "lease_duration": sec.Auth.LeaseDuration, "renewable": sec.Auth.Renewable}
		// A token is not a lease: it is not renewed or revoked through
		// sys/leases; it is replaced at rotatePercent of its TTL.
		out.Lease.Duration = time.Duration(sec.Auth.LeaseDuration) * time.Second
	case "Raw":
		fields = map[string]any{"request_id": sec.RequestID, "lease_id": sec.LeaseID, "lease_duration": sec.LeaseDuration,
			"renewable": sec.Renewable, "data": sec.Data, "warnings": sec.Warnings}
	default:
		fields = sec.Data
	}
	for k, v := range fields {
		b, err := valueBytes(v)
		if err != nil {
			return nil, fmt.Errorf("encode value %q: %w", k, err)
		}
		out.Values[k] = b
	}
	if result != "Auth" {
		if len(sec.LeaseID) > maxLeaseID {
			return nil, fmt.Errorf("the server answered a lease ID of %d bytes (at most %d): %w", len(sec.LeaseID), maxLeaseID, providers.ErrInvalidConfig)
		}
		out.Lease = providers.Lease{ID: sec.LeaseID, Duration: time.Duration(sec.LeaseDuration) * time.Second, Renewable: sec.Renewable}
	}
	return out, nil
}

// maxLeaseID bounds a lease ID from a server: real ones are a path and a
// short random suffix. A tenant's server answering megabytes in lease_id on
// every retry must not grow the operator's memory or its state Secrets.
const maxLeaseID = 512

// checkLeaseID refuses a lease ID that the generator's path did not issue, or
// that is not a plain path: the ID travels in the request's URL
// (sys/leases/renew/<id>), so that a policy can grant renewal and revocation
// of exactly one path's leases, and no ID may climb out of it.
func checkLeaseID(path, leaseID string) error {
	p := strings.Trim(path, "/")
	switch {
	case leaseID == "" || len(leaseID) > maxLeaseID:
		return fmt.Errorf("lease ID of %d bytes (at most %d): %w", len(leaseID), maxLeaseID, providers.ErrInvalidRef)
	case !strings.HasPrefix(leaseID, p+"/"):
		return fmt.Errorf("lease %q was not issued by %q: %w", leaseID, p, providers.ErrInvalidRef)
	}
	if err := checkPath(leaseID); err != nil {
		return refErrorf("lease %q %v", leaseID, err)
	}
	for _, r := range leaseID {
		if !leaseIDRune(r) {
			return fmt.Errorf("lease %q has a character outside letters, digits and /._-: %w", leaseID, providers.ErrInvalidRef)
		}
	}
	return nil
}

// leaseIDRune reports whether r may appear in a lease ID.
func leaseIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-", r)
}

// RenewLease extends a lease through sys/leases/renew/<lease ID>. A 4xx
// answer (the lease is unknown, expired or not renewable) is ErrLeaseGone.
func (c *storeClient) RenewLease(ctx context.Context, path, leaseID string, increment time.Duration) (providers.Lease, error) {
	if err := checkLeaseID(path, leaseID); err != nil {
		return providers.Lease{}, err
	}
	url := "sys/leases/renew/" + leaseID
	body := map[string]any{"increment": int(increment.Seconds())}
	sec, err := c.call(ctx, "renew", "sys/leases/renew", func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().WriteWithContext(ctx, url, body)
	})
	if errors.Is(err, providers.ErrInvalidConfig) || errors.Is(err, providers.ErrNotFound) {
		return providers.Lease{}, fmt.Errorf("%w: %w", providers.ErrLeaseGone, err)
	}
	if err != nil {
		return providers.Lease{}, err
	}
	if sec == nil {
		return providers.Lease{}, fmt.Errorf("store %s: the renewal answered nothing: %w", c.name, providers.ErrLeaseGone)
	}
	return providers.Lease{ID: leaseID, Duration: time.Duration(sec.LeaseDuration) * time.Second, Renewable: sec.Renewable}, nil
}

// RevokeLease revokes a lease through sys/leases/revoke/<lease ID>. Vault
// answers a revocation of an unknown lease with success, so a lease already
// gone is no error.
func (c *storeClient) RevokeLease(ctx context.Context, path, leaseID string) error {
	if err := checkLeaseID(path, leaseID); err != nil {
		return err
	}
	url := "sys/leases/revoke/" + leaseID
	_, err := c.call(ctx, "revoke-lease", "sys/leases/revoke", func(ctx context.Context, cl *api.Client) (*api.Secret, error) {
		return cl.Logical().WriteWithContext(ctx, url, nil)
	})
	return err
}
