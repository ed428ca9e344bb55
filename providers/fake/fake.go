// Package fake is an in-memory provider for fast unit tests of controller
// logic. Integration tests use the real Vault server instead.
package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// Provider hands out one shared in-memory client.
type Provider struct {
	Client *Client
	// NewClientErr, when set, is returned by NewClient.
	NewClientErr error
}

var (
	_ providers.Provider      = (*Provider)(nil)
	_ providers.SecretsClient = (*Client)(nil)
)

// New returns a Provider whose client holds no secrets.
func New() *Provider {
	return &Provider{Client: &Client{secrets: map[string]map[string]any{}, errs: map[string]error{}}}
}

// NewClient returns the shared client.
func (p *Provider) NewClient(context.Context, v1alpha1.GenericStore, providers.Kube, string) (providers.SecretsClient, error) {
	if p.NewClientErr != nil {
		return nil, p.NewClientErr
	}
	return p.Client, nil
}

// Release does nothing.
func (p *Provider) Release(v1alpha1.SecretStoreKind, string, string) {}

// Client is an in-memory SecretsClient with a call log.
type Client struct {
	mu      sync.Mutex
	secrets map[string]map[string]any
	errs    map[string]error
	// Calls logs every key read, in order.
	Calls []string

	// Dynamic secrets (dynamic.go).
	leaseTTL time.Duration
	issued   int
	leases   map[string]time.Duration
	current  string
	tokens   map[string]tokenState
}

// tokenState is what TokenEnd answers for one token.
type tokenState struct {
	end  time.Time
	held bool
}

// WithSecret stores data at key.
func (c *Client) WithSecret(key string, data map[string]any) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[key] = data
	return c
}

// WithError makes reads of key fail with err.
func (c *Client) WithError(key string, err error) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs[key] = err
	return c
}

func (c *Client) read(ref providers.RemoteRef) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Calls = append(c.Calls, ref.Key)
	if err := c.errs[ref.Key]; err != nil {
		return nil, err
	}
	d, ok := c.secrets[ref.Key]
	if !ok {
		return nil, fmt.Errorf("fake: %s: %w", ref.Key, providers.ErrNotFound)
	}
	return d, nil
}

// GetSecret returns a top-level property, or the whole secret as JSON.
func (c *Client) GetSecret(_ context.Context, ref providers.RemoteRef) ([]byte, error) {
	d, err := c.read(ref)
	if err != nil {
		return nil, err
	}
	if ref.Property == "" {
		return json.Marshal(d)
	}
	v, ok := d[ref.Property]
	if !ok {
		return nil, fmt.Errorf("fake: %s#%s: %w", ref.Key, ref.Property, providers.ErrPropertyNotFound)
	}
	return encode(v)
}

// GetSecretMap returns every top-level property.
func (c *Client) GetSecretMap(_ context.Context, ref providers.RemoteRef) (map[string][]byte, error) {
	d, err := c.read(ref)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for k, v := range d {
		if out[k], err = encode(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetAllSecrets returns every stored secret whose key matches ref, as JSON.
func (c *Client) GetAllSecrets(_ context.Context, ref providers.FindRef) (map[string][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]byte{}
	for k, d := range c.secrets {
		if !strings.HasPrefix(k, ref.Path) || (ref.Name != nil && !ref.Name.MatchString(k)) {
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	return out, nil
}

// PushSecret stores value at ref's property.
func (c *Client) PushSecret(_ context.Context, ref providers.PushRef, value []byte) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.secrets[ref.Key]
	if ok && ref.IfNotExists {
		return false, nil
	}
	if !ok {
		d = map[string]any{}
		c.secrets[ref.Key] = d
	}
	d[ref.Property] = string(value)
	return !ok, nil
}

// DeleteSecret removes ref's property, and the secret when nothing is left.
func (c *Client) DeleteSecret(_ context.Context, ref providers.PushRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.secrets[ref.Key], ref.Property)
	if len(c.secrets[ref.Key]) == 0 {
		delete(c.secrets, ref.Key)
	}
	return nil
}

// Validate succeeds.
func (c *Client) Validate(context.Context) error { return nil }

// Close does nothing.
func (c *Client) Close(context.Context) error { return nil }

func encode(v any) ([]byte, error) {
	if s, ok := v.(string); ok {
		return []byte(s), nil
	}
	return json.Marshal(v)
}
