package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/baosync/baosync/providers"
)

var _ providers.DynamicClient = (*Client)(nil)

// WithLeases makes Generate issue renewable leases of ttl.
func (c *Client) WithLeases(ttl time.Duration) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leaseTTL = ttl
	return c
}

// Generate issues a new credential at req.Path, with a lease of the
// configured TTL. The values say which issue they came from.
func (c *Client) Generate(_ context.Context, req providers.DynamicRequest) (*providers.DynamicSecret, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Calls = append(c.Calls, "generate:"+req.Path)
	if err := c.errs[req.Path]; err != nil {
		return nil, err
	}
	c.issued++
	id := fmt.Sprintf("%s/lease-%d", req.Path, c.issued)
	if c.leases == nil {
		c.leases = map[string]time.Duration{}
	}
	c.leases[id] = c.leaseTTL
	return &providers.DynamicSecret{
		Values: map[string][]byte{"username": []byte(fmt.Sprintf("user-%d", c.issued)), "password": []byte(fmt.Sprintf("pass-%d", c.issued))},
		Lease:  providers.Lease{ID: id, Duration: c.leaseTTL, Renewable: true, Token: c.token(), TokenEnd: c.tokens[c.token()].end},
	}, nil
}

// token is the ID of the token Generate issues under: FakeToken, or the last
// one WithNewToken named.
func (c *Client) token() string {
	if c.current == "" {
		return FakeToken
	}
	return c.current
}

// FakeToken is the ID of the token the fake issues leases under until
// WithNewToken changes it.
const FakeToken = "fake-token"

// WithNewToken makes later leases belong to the token id, as a new login does.
func (c *Client) WithNewToken(id string) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = id
	return c
}

// WithTokenEnd sets what TokenEnd answers for a token: when it ends (zero:
// renewed for as long as needed) and whether the client holds it.
func (c *Client) WithTokenEnd(id string, end time.Time, held bool) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]tokenState{}
	}
	c.tokens[id] = tokenState{end: end, held: held}
	return c
}

// TokenEnd answers what WithTokenEnd set; any other token is held, with no
// known end.
func (c *Client) TokenEnd(_ context.Context, token string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.tokens[token]; ok {
		return st.end, st.held
	}
	return time.Time{}, true
}

// RenewLease grants increment to a lease not revoked; an error set with
// WithError under the lease ID fails it.
func (c *Client) RenewLease(_ context.Context, _, leaseID string, increment time.Duration) (providers.Lease, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Calls = append(c.Calls, "renew:"+leaseID)
	if err := c.errs[leaseID]; err != nil { // WithError(leaseID, …)
		return providers.Lease{}, err
	}
	if _, ok := c.leases[leaseID]; !ok {
		return providers.Lease{}, fmt.Errorf("lease %s: %w", leaseID, providers.ErrLeaseGone)
	}
	return providers.Lease{ID: leaseID, Duration: increment, Renewable: true}, nil
}

// RevokeLease forgets the lease.
func (c *Client) RevokeLease(_ context.Context, _, leaseID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Calls = append(c.Calls, "revoke:"+leaseID)
	delete(c.leases, leaseID)
	return nil
}

// Leases lists the leases not revoked.
func (c *Client) Leases() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.leases))
	for id := range c.leases {
		out = append(out, id)
	}
	return out
}
