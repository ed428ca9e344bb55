package testenv

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// ReadPolicy is a policy that may read everything under secret/ and kv1/.
const ReadPolicy = `
path "secret/*" { capabilities = ["read", "list"] }
path "kv1/*" { capabilities = ["read", "list"] }
`

// KVPut writes data at a KV v2 path of the dev server's secret/ mount (path
// without "data/", e.g. "secret/app").
func (e *Env) KVPut(ctx context.Context, path string, data map[string]any) error {
	mount, rel, _ := strings.Cut(path, "/")
	_, err := e.VaultClient.Logical().WriteWithContext(ctx, mount+"/data/"+rel, map[string]any{"data": data})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// KVDelete deletes every version and the metadata of a KV v2 secret.
func (e *Env) KVDelete(ctx context.Context, path string) error {
	mount, rel, _ := strings.Cut(path, "/")
	_, err := e.VaultClient.Logical().DeleteWithContext(ctx, mount+"/metadata/"+rel)
	return err
}

// Write performs a raw write with the root token (for setup).
func (e *Env) Write(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
	s, err := e.VaultClient.Logical().WriteWithContext(ctx, path, data)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if s == nil {
		return nil, nil
	}
	return s.Data, nil
}

// EnableOnce enables a secrets engine or auth method unless it is enabled.
func (e *Env) EnableOnce(ctx context.Context, kind, path string, opts map[string]any) error {
	body := map[string]any{"type": kind}
	for k, v := range opts {
		body[k] = v
	}
	prefix := "sys/mounts/"
	if kind != "kv" {
		prefix = "sys/auth/"
	}
	_, err := e.Write(ctx, prefix+path, body)
	if err != nil && strings.Contains(err.Error(), "already in use") {
		return nil
	}
	return err
}

// AppRole enables AppRole at mount approle (once), creates role with the read
// policy and returns its role ID and a fresh secret ID.
func (e *Env) AppRole(ctx context.Context, role string) (roleID, secretID string, err error) {
	if err := e.readPolicy(ctx); err != nil {
		return "", "", err
	}
	if err := e.EnableOnce(ctx, "approle", "approle", nil); err != nil {
		return "", "", err
	}
	return e.appRole(ctx, role, map[string]any{"token_policies": "read", "token_ttl": "1h"})
}

// appRole creates AppRole role with the token settings given and returns its
// role ID and a fresh secret ID.
func (e *Env) appRole(ctx context.Context, role string, tokens map[string]any) (roleID, secretID string, err error) {
	if _, err := e.Write(ctx, "auth/approle/role/"+role, tokens); err != nil {
		return "", "", err
	}
	s, err := e.VaultClient.Logical().ReadWithContext(ctx, "auth/approle/role/"+role+"/role-id")
	if err != nil {
		return "", "", fmt.Errorf("read role-id: %w", err)
	}
	d, err := e.Write(ctx, "auth/approle/role/"+role+"/secret-id", nil)
	if err != nil {
		return "", "", err
	}
	return s.Data["role_id"].(string), d["secret_id"].(string), nil
}

// DynamicAppRole creates an AppRole role whose tokens carry the policy
// "dynamic" (DynamicPolicy, written by DatabaseRole or PKIRole) and the
// default policy (renew-self), with the given token TTL and max TTL, as a
// production generator logs in; it returns the role ID and a fresh secret ID.
func (e *Env) DynamicAppRole(ctx context.Context, role string, ttl, maxTTL time.Duration) (roleID, secretID string, err error) {
	if err := e.EnableOnce(ctx, "approle", "approle", nil); err != nil {
		return "", "", err
	}
	return e.appRole(ctx, role, map[string]any{"token_policies": "dynamic",
		"token_ttl": int(ttl.Seconds()), "token_max_ttl": int(maxTTL.Seconds())})
}

// UserPass enables userpass (once) and creates a user with the read policy.
func (e *Env) UserPass(ctx context.Context, user, password string) error {
	if err := e.readPolicy(ctx); err != nil {
		return err
	}
	if err := e.EnableOnce(ctx, "userpass", "userpass", nil); err != nil {
		return err
	}
	_, err := e.Write(ctx, "auth/userpass/users/"+user, map[string]any{"password": password, "token_policies": "read"})
	return err
}

// JWTRole enables jwt auth (once) trusting pubKeyPEM for tokens of issuer, and
// creates role bound to audience "vault" and the given subject.
func (e *Env) JWTRole(ctx context.Context, pubKeyPEM, issuer, role, subject string) error {
	if err := e.readPolicy(ctx); err != nil {
		return err
	}
	if err := e.EnableOnce(ctx, "jwt", "jwt", nil); err != nil {
		return err
	}
	if _, err := e.Write(ctx, "auth/jwt/config", map[string]any{"jwt_validation_pubkeys": []string{pubKeyPEM}, "bound_issuer": issuer}); err != nil {
		return err
	}
	_, err := e.Write(ctx, "auth/jwt/role/"+role, map[string]any{
		"role_type": "jwt", "bound_audiences": []string{"vault"}, "user_claim": "sub", "bound_subject": subject, "token_policies": "read",
	})
	return err
}

// KubernetesRole enables Kubernetes auth (once) against this API server, with a
// reviewer ServiceAccount bound to system:auth-delegator whose token Vault uses
// for TokenReview, and creates role for ServiceAccount ns/sa with audience "vault".
func (e *Env) KubernetesRole(ctx context.Context, role, ns, sa string) error {
	if err := e.readPolicy(ctx); err != nil {
		return err
	}
	return e.kubernetesRole(ctx, role, ns, sa, map[string]any{"token_policies": "read", "token_ttl": "1h"})
}

// DynamicKubernetesRole is KubernetesRole with the policy "dynamic"
// (DynamicPolicy, written by DatabaseRole or PKIRole) and the default policy,
// and tokens that live ttl and at most maxTTL, as a production generator
// logs in.
func (e *Env) DynamicKubernetesRole(ctx context.Context, role, ns, sa string, ttl, maxTTL time.Duration) error {
	return e.kubernetesRole(ctx, role, ns, sa, map[string]any{"token_policies": "dynamic",
		"token_ttl": int(ttl.Seconds()), "token_max_ttl": int(maxTTL.Seconds())})
}

// kubernetesRole enables and configures Kubernetes auth (once) and creates
// role for ServiceAccount ns/sa with the audience "vault" and the token
// settings given.
func (e *Env) kubernetesRole(ctx context.Context, role, ns, sa string, tokens map[string]any) error {
	if err := e.EnableOnce(ctx, "kubernetes", "kubernetes", nil); err != nil {
		return err
	}
	reviewer, err := e.reviewerToken(ctx)
	if err != nil {
		return err
	}
	if _, err := e.Write(ctx, "auth/kubernetes/config", map[string]any{
		"kubernetes_host": e.Config.Host, "kubernetes_ca_cert": string(e.Config.CAData),
		"token_reviewer_jwt": reviewer, "disable_local_ca_jwt": true,
	}); err != nil {
		return err
	}
	body := map[string]any{"bound_service_account_names": sa, "bound_service_account_namespaces": ns, "audience": "vault"}
	maps.Copy(body, tokens)
	_, err = e.Write(ctx, "auth/kubernetes/role/"+role, body)
	return err
}

// reviewerToken returns a token of the TokenReview reviewer ServiceAccount.
func (e *Env) reviewerToken(ctx context.Context) (string, error) {
	const ns, name = "kube-system", "vault-token-reviewer"
	objs := []clientObject{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:auth-delegator"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
		},
	}
	for _, o := range objs {
		if err := e.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("create reviewer %T: %w", o, err)
		}
	}
	exp := int64(24 * 3600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := e.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("request reviewer token: %w", err)
	}
	return tr.Status.Token, nil
}

// readPolicy writes the "read" policy.
func (e *Env) readPolicy(ctx context.Context) error {
	_, err := e.Write(ctx, "sys/policies/acl/read", map[string]any{"policy": ReadPolicy})
	return err
}

// TokenStore creates, in namespace ns, a Secret "tok" with the root token and
// a SecretStore named name reading the dev server's secret/ mount with it.
func (e *Env) TokenStore(ctx context.Context, ns, name string) error {
	if err := e.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tok", Namespace: ns},
		StringData: map[string]string{"token": e.Vault.Token}}); err != nil {
		return fmt.Errorf("create token Secret: %w", err)
	}
	path := "secret"
	store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: e.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}}}}}
	if err := e.Client.Create(ctx, store); err != nil {
		return fmt.Errorf("create SecretStore: %w", err)
	}
	return nil
}
