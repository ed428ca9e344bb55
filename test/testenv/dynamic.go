package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openbao/openbao/api/v2"
)

// dynamicEngines are the dynamic secrets engines a suite set up, started on
// first use so that suites without dynamic secrets pay nothing.
type dynamicEngines struct {
	mu       sync.Mutex
	postgres *PostgresServer
	dbReady  bool
	pkiReady bool
}

// DynamicPolicy may issue database credentials and PKI certificates, and
// renew and revoke the leases of exactly those paths, which is what a
// VaultDynamicSecret's login needs: the lease ID is in the URL
// (sys/leases/renew/<id>), so no grant on sys/leases/renew or
// sys/leases/revoke themselves, which would reach every lease in the server,
// is needed (docs/generators-vault-dynamic.md shows the same policy).
const DynamicPolicy = `
path "database/creds/*" { capabilities = ["read"] }
path "pki/issue/*" { capabilities = ["create", "update"] }
path "pki/sign/*" { capabilities = ["create", "update"] }
path "sys/leases/renew/database/creds/*" { capabilities = ["update"] }
path "sys/leases/revoke/database/creds/*" { capabilities = ["update"] }
path "sys/leases/renew/pki/*" { capabilities = ["update"] }
path "sys/leases/revoke/pki/*" { capabilities = ["update"] }
`

// Postgres returns the suite's PostgreSQL server, starting it on first use.
func (e *Env) Postgres(ctx context.Context) (*PostgresServer, error) {
	e.dynamic.mu.Lock()
	defer e.dynamic.mu.Unlock()
	if e.dynamic.postgres != nil {
		return e.dynamic.postgres, nil
	}
	s, err := StartPostgres(ctx, e.Dir)
	if err != nil {
		return nil, err
	}
	e.dynamic.postgres = s
	return s, nil
}

// stopDynamic stops what Postgres started.
func (e *Env) stopDynamic() {
	e.dynamic.mu.Lock()
	defer e.dynamic.mu.Unlock()
	_ = e.dynamic.postgres.Stop()
	e.dynamic.postgres = nil
}

// mountOnce enables a secrets engine at path unless something is mounted there.
func (e *Env) mountOnce(ctx context.Context, kind, path string, cfg map[string]any) error {
	body := map[string]any{"type": kind}
	if cfg != nil {
		body["config"] = cfg
	}
	_, err := e.Write(ctx, "sys/mounts/"+path, body)
	if err != nil && strings.Contains(err.Error(), "already in use") {
		return nil
	}
	return err
}

// DatabaseRole makes Vault's database engine (at database/, connection "pg" to
// the suite's PostgreSQL) issue credentials under role, each a new PostgreSQL
// role that may log in, with the given default and maximum TTL. It also writes
// the policy "dynamic" (DynamicPolicy).
func (e *Env) DatabaseRole(ctx context.Context, role string, ttl, maxTTL time.Duration) error {
	pg, err := e.Postgres(ctx)
	if err != nil {
		return err
	}
	e.dynamic.mu.Lock()
	defer e.dynamic.mu.Unlock()
	if !e.dynamic.dbReady {
		if err := e.mountOnce(ctx, "database", "database", nil); err != nil {
			return err
		}
		if _, err := e.Write(ctx, "database/config/pg", map[string]any{
			"plugin_name":    "postgresql-database-plugin",
			"connection_url": fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", pg.Port),
			"username":       "postgres", "password": pg.Password, "allowed_roles": "*",
			"verify_connection": true,
		}); err != nil {
			return err
		}
		if _, err := e.Write(ctx, "sys/policies/acl/dynamic", map[string]any{"policy": DynamicPolicy}); err != nil {
			return err
		}
		e.dynamic.dbReady = true
	}
	_, err = e.Write(ctx, "database/roles/"+role, map[string]any{
		"db_name": "pg",
		"creation_statements": []string{
			`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
		},
		"revocation_statements": []string{`DROP ROLE IF EXISTS "{{name}}";`},
		"default_ttl":           int(ttl.Seconds()), "max_ttl": int(maxTTL.Seconds()),
	})
	return err
}

// PKIRole makes Vault's PKI engine (at pki/, with a generated root CA) issue
// certificates under role for any name, valid for ttl unless asked otherwise.
func (e *Env) PKIRole(ctx context.Context, role string, ttl time.Duration) error {
	e.dynamic.mu.Lock()
	defer e.dynamic.mu.Unlock()
	if !e.dynamic.pkiReady {
		if err := e.mountOnce(ctx, "pki", "pki", map[string]any{"max_lease_ttl": "87600h"}); err != nil {
			return err
		}
		if _, err := e.Write(ctx, "pki/root/generate/internal", map[string]any{
			"common_name": "baosync test root", "ttl": "87600h", "key_type": "ec", "key_bits": 256,
		}); err != nil {
			return err
		}
		if _, err := e.Write(ctx, "sys/policies/acl/dynamic", map[string]any{"policy": DynamicPolicy}); err != nil {
			return err
		}
		e.dynamic.pkiReady = true
	}
	_, err := e.Write(ctx, "pki/roles/"+role, map[string]any{
		"allow_any_name": true, "enforce_hostnames": false, "key_type": "ec", "key_bits": 256,
		"ttl": ttl.String(), "max_ttl": "87600h", "generate_lease": true,
		// Not backdated: a short test certificate is planned from its own validity.
		"not_before_duration": "1s",
	})
	return err
}

// LeaseLookup returns a lease's remaining TTL as the server sees it; found is
// false when the lease no longer exists (revoked or expired).
func (e *Env) LeaseLookup(ctx context.Context, leaseID string) (ttl time.Duration, found bool, err error) {
	s, err := e.VaultClient.Logical().WriteWithContext(ctx, "sys/leases/lookup", map[string]any{"lease_id": leaseID})
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == 400 && strings.Contains(strings.Join(re.Errors, " "), "invalid lease") {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("lookup lease: %w", err)
	}
	if s == nil || s.Data == nil {
		return 0, false, nil
	}
	n, _ := s.Data["ttl"].(interface{ Int64() (int64, error) })
	if n == nil {
		return 0, true, nil
	}
	secs, _ := n.Int64()
	return time.Duration(secs) * time.Second, true, nil
}
