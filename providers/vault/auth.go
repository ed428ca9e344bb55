package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// credentials is what a store's auth method resolves to: either a static token,
// or a login request against an auth mount.
type credentials struct {
	// method names the auth method for messages and metrics.
	method string
	// loginPath is the path to write the login request to, e.g. auth/approle/login.
	loginPath string
	// staticToken is set for tokenSecretRef.
	staticToken string
	// body builds the login request body. It may request a fresh ServiceAccount
	// token each time, so it runs at login time, not at resolve time.
	body func(ctx context.Context) (map[string]any, error)
	// fingerprint hashes the stable material read from the cluster (Secret values,
	// ServiceAccount identity), so that a change of it rebuilds the client.
	fingerprint string
}

// resolveCredentials reads the material of the store's one auth method.
func resolveCredentials(ctx context.Context, r *refResolver, a *v1alpha1.VaultAuth, o *options) (*credentials, error) {
	switch {
	case a.TokenSecretRef != nil:
		return tokenCredentials(ctx, r, a.TokenSecretRef)
	case a.AppRole != nil:
		return appRoleCredentials(ctx, r, a.AppRole)
	case a.Kubernetes != nil:
		return kubernetesCredentials(ctx, r, a.Kubernetes, o)
	case a.UserPass != nil:
		return userPassCredentials(ctx, r, a.UserPass)
	case a.Ldap != nil:
		return ldapCredentials(ctx, r, a.Ldap)
	case a.Jwt != nil:
		return jwtCredentials(ctx, r, a.Jwt)
	case a.Cert != nil:
		return certCredentials(a.Cert), nil
	}
	return nil, fmt.Errorf("no auth method is set: %w", providers.ErrInvalidConfig)
}

// fingerprint hashes parts into a short, value-free identifier.
func fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d:", len(p))
		_, _ = h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// staticBody returns a body func for material that was read at resolve time.
func staticBody(body map[string]any) func(context.Context) (map[string]any, error) {
	return func(context.Context) (map[string]any, error) { return body, nil }
}

// loginPath returns the login path of the auth mount at path (def when empty).
func loginPath(path, def string) string {
	if path = strings.Trim(path, "/"); path == "" {
		path = def
	}
	return "auth/" + path + "/login"
}

// serviceAccountJWT requests a short-lived token for a ServiceAccount and
// makes sure the API server does not accept it: the token goes to the store's
// server, which the store's author chose.
func serviceAccountJWT(ctx context.Context, r *refResolver, sa *v1alpha1.ServiceAccountSelector, audiences []string, field string) (string, error) {
	ns, err := r.namespace(sa.Namespace, field)
	if err != nil {
		return "", err
	}
	tok, err := r.kube.ServiceAccountToken(ctx, ns, sa.Name, audiences, tokenLifetime)
	if err != nil {
		return "", fmt.Errorf("%s: request a token for ServiceAccount %s/%s: %w: %w", field, ns, sa.Name, providers.ErrAuth, err)
	}
	what := fmt.Sprintf("%s: the token of ServiceAccount %s/%s with audiences %q", field, ns, sa.Name, audiences)
	if err := refuseAPICredential(ctx, r.kube, tok, what); err != nil {
		return "", err
	}
	return tok, nil
}
