package vault

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// tokenCredentials reads a ready token (key "token" unless named).
func tokenCredentials(ctx context.Context, r *refResolver, sel *v1alpha1.SecretKeySelector) (*credentials, error) {
	tok, err := r.secret(ctx, sel, "token", "auth.tokenSecretRef", providers.ErrAuth)
	if err != nil {
		return nil, err
	}
	t := strings.TrimSpace(string(tok))
	return &credentials{method: "token", staticToken: t, fingerprint: fingerprint([]byte(t))}, nil
}

// appRoleCredentials reads the role ID (inline or from a Secret) and the secret ID.
func appRoleCredentials(ctx context.Context, r *refResolver, a *v1alpha1.VaultAppRole) (*credentials, error) {
	var roleID []byte
	switch {
	case a.RoleID != nil:
		roleID = []byte(*a.RoleID)
	case a.RoleRef != nil:
		var err error
		if roleID, err = r.secret(ctx, a.RoleRef, "", "auth.appRole.roleRef", providers.ErrAuth); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("auth.appRole needs roleId or roleRef: %w", providers.ErrInvalidConfig)
	}
	secretID, err := r.secret(ctx, &a.SecretRef, "", "auth.appRole.secretRef", providers.ErrAuth)
	if err != nil {
		return nil, err
	}
	return &credentials{
		method: "approle", loginPath: loginPath(a.Path, "approle"),
		body:        staticBody(map[string]any{"role_id": strings.TrimSpace(string(roleID)), "secret_id": strings.TrimSpace(string(secretID))}),
		fingerprint: fingerprint(roleID, secretID),
	}, nil
}

// kubernetesCredentials logs in with a TokenRequest token of serviceAccountRef,
// a token from secretRef, or (a ClusterSecretStore only, when the operator
// allows it) the operator's own projected token.
func kubernetesCredentials(ctx context.Context, r *refResolver, k *v1alpha1.VaultKubernetesAuth, o *options) (*credentials, error) {
	c := &credentials{method: "kubernetes", loginPath: loginPath(k.Path, "kubernetes")}
	switch {
	case k.ServiceAccountRef != nil:
		sa := k.ServiceAccountRef
		ns, err := r.namespace(sa.Namespace, "auth.kubernetes.serviceAccountRef")
		if err != nil {
			return nil, err
		}
		aud := audiencesOrDefault(sa.Audiences)
		c.fingerprint = fingerprint([]byte(ns), []byte(sa.Name), []byte(strings.Join(aud, ",")))
		c.body = func(ctx context.Context) (map[string]any, error) {
			jwt, err := serviceAccountJWT(ctx, r, sa, aud, "auth.kubernetes.serviceAccountRef")
			if err != nil {
				return nil, err
			}
			return map[string]any{"role": k.Role, "jwt": jwt}, nil
		}
	case k.SecretRef != nil:
		jwt, err := r.secret(ctx, k.SecretRef, "token", "auth.kubernetes.secretRef", providers.ErrAuth)
		if err != nil {
			return nil, err
		}
		c.fingerprint = fingerprint(jwt)
		c.body = staticBody(map[string]any{"role": k.Role, "jwt": strings.TrimSpace(string(jwt))})
	default:
		if err := operatorIdentityAllowed(r, o); err != nil {
			return nil, err
		}
		c.fingerprint = fingerprint([]byte(o.ownTokenFile))
		c.body = func(ctx context.Context) (map[string]any, error) {
			jwt, err := ownToken(ctx, r, o)
			if err != nil {
				return nil, err
			}
			return map[string]any{"role": k.Role, "jwt": jwt}, nil
		}
	}
	return c, nil
}

// operatorIdentityAllowed refuses the operator's own token to every namespaced
// SecretStore (a tenant would send it to a server of their choice) and to
// ClusterSecretStores unless the operator was started to allow it.
func operatorIdentityAllowed(r *refResolver, o *options) error {
	if r.store.GetKind() != v1alpha1.SecretStoreKindCluster {
		return fmt.Errorf("auth.kubernetes sets neither serviceAccountRef nor secretRef, which would log in with the operator's own identity; "+
			"a SecretStore never may: set serviceAccountRef to a ServiceAccount of namespace %q: %w", r.store.GetNamespace(), providers.ErrInvalidConfig)
	}
	if !o.operatorIdentity {
		return fmt.Errorf("auth.kubernetes sets neither serviceAccountRef nor secretRef, which would log in with the operator's own identity; "+
			"this operator does not allow that: set serviceAccountRef, or start the operator with --cluster-store-operator-identity "+
			"(chart value operatorIdentity.enabled): %w", providers.ErrInvalidConfig)
	}
	return nil
}

// ownToken reads the operator's projected token (the kubelet rotates the file,
// so it is read at each login) and checks that the API server refuses it.
func ownToken(ctx context.Context, r *refResolver, o *options) (string, error) {
	b, err := os.ReadFile(o.ownTokenFile)
	if err != nil {
		return "", fmt.Errorf("auth.kubernetes: read the operator's own token %s: %w: %w", o.ownTokenFile, providers.ErrAuth, err)
	}
	jwt := strings.TrimSpace(string(b))
	what := "auth.kubernetes: the operator's own token " + o.ownTokenFile
	if err := refuseAPICredential(ctx, r.kube, jwt, what); err != nil {
		return "", err
	}
	return jwt, nil
}

// userPassCredentials reads the password.
func userPassCredentials(ctx context.Context, r *refResolver, u *v1alpha1.VaultUserPassAuth) (*credentials, error) {
	pw, err := r.secret(ctx, &u.SecretRef, "", "auth.userPass.secretRef", providers.ErrAuth)
	if err != nil {
		return nil, err
	}
	return &credentials{
		method: "userpass", loginPath: loginPath(u.Path, "userpass") + "/" + u.Username,
		body:        staticBody(map[string]any{"password": string(pw)}),
		fingerprint: fingerprint([]byte(u.Username), pw),
	}, nil
}

// ldapCredentials reads the LDAP password; the server checks it against its
// directory, so the login is the same request as userpass at another mount.
func ldapCredentials(ctx context.Context, r *refResolver, l *v1alpha1.VaultLdapAuth) (*credentials, error) {
	pw, err := r.secret(ctx, &l.SecretRef, "", "auth.ldap.secretRef", providers.ErrAuth)
	if err != nil {
		return nil, err
	}
	return &credentials{
		method: "ldap", loginPath: loginPath(l.Path, "ldap") + "/" + l.Username,
		body:        staticBody(map[string]any{"password": string(pw)}),
		fingerprint: fingerprint([]byte(l.Username), pw),
	}, nil
}

// jwtCredentials reads the JWT from a Secret or requests a ServiceAccount token.
func jwtCredentials(ctx context.Context, r *refResolver, j *v1alpha1.VaultJwtAuth) (*credentials, error) {
	c := &credentials{method: "jwt", loginPath: loginPath(j.Path, "jwt")}
	switch {
	case j.SecretRef != nil:
		jwt, err := r.secret(ctx, j.SecretRef, "", "auth.jwt.secretRef", providers.ErrAuth)
		if err != nil {
			return nil, err
		}
		c.fingerprint = fingerprint([]byte(j.Role), jwt)
		c.body = staticBody(map[string]any{"role": j.Role, "jwt": strings.TrimSpace(string(jwt))})
	case j.KubernetesServiceAccountToken != nil:
		t := j.KubernetesServiceAccountToken
		aud := audiencesOrDefault(t.Audiences, t.ServiceAccountRef.Audiences)
		c.fingerprint = fingerprint([]byte(j.Role), []byte(t.ServiceAccountRef.Name), []byte(strings.Join(aud, ",")))
		c.body = func(ctx context.Context) (map[string]any, error) {
			jwt, err := serviceAccountJWT(ctx, r, &t.ServiceAccountRef, aud, "auth.jwt.kubernetesServiceAccountToken")
			if err != nil {
				return nil, err
			}
			return map[string]any{"role": j.Role, "jwt": jwt}, nil
		}
	default:
		return nil, fmt.Errorf("auth.jwt needs secretRef or kubernetesServiceAccountToken: %w", providers.ErrInvalidConfig)
	}
	return c, nil
}

// certCredentials logs in with the TLS client certificate, which readTLS put on
// the connection; the body only names the role.
func certCredentials(c *v1alpha1.VaultCertAuth) *credentials {
	body := map[string]any{}
	if c.Role != "" {
		body["name"] = c.Role
	}
	return &credentials{method: "cert", loginPath: loginPath(c.Path, "cert"), body: staticBody(body), fingerprint: fingerprint([]byte(c.Role))}
}
