package testenv

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TenantPolicy is the policy of one namespace of a shared store: read and
// list its own prefix apps/<ns>/ of the secret/ mount, and nothing else.
func TenantPolicy(ns string) string {
	return fmt.Sprintf(`
path "secret/data/apps/%[1]s/*" { capabilities = ["read", "list"] }
path "secret/metadata/apps/%[1]s/*" { capabilities = ["read", "list"] }
path "secret/metadata/apps/%[1]s" { capabilities = ["list"] }
`, ns)
}

// tenantTokens are the token settings of the per-namespace roles: short and
// renewable, as a production login is, so that lifetime bugs show.
var tenantTokens = map[string]any{"token_ttl": "30s", "token_max_ttl": "10m"}

// TenantKubernetesRole writes policy "tenant-<ns>" (TenantPolicy) and a
// Kubernetes auth role for ServiceAccount ns/sa with it.
func (e *Env) TenantKubernetesRole(ctx context.Context, role, ns, sa string) error {
	if _, err := e.Write(ctx, "sys/policies/acl/tenant-"+ns, map[string]any{"policy": TenantPolicy(ns)}); err != nil {
		return err
	}
	tokens := map[string]any{"token_policies": "tenant-" + ns}
	for k, v := range tenantTokens {
		tokens[k] = v
	}
	return e.kubernetesRole(ctx, role, ns, sa, tokens)
}

// ServiceAccountJWTMount is where ServiceAccountJWTRole enables jwt auth.
const ServiceAccountJWTMount = "k8s-jwt"

// ServiceAccountJWTRole enables jwt auth at ServiceAccountJWTMount (once),
// trusting this API server's ServiceAccount tokens (its signing key and
// issuer), and creates role for ServiceAccount ns/sa, audience "vault", with
// policy "tenant-<ns>" (TenantPolicy).
func (e *Env) ServiceAccountJWTRole(ctx context.Context, role, ns, sa string) error {
	if _, err := e.Write(ctx, "sys/policies/acl/tenant-"+ns, map[string]any{"policy": TenantPolicy(ns)}); err != nil {
		return err
	}
	if err := e.EnableOnce(ctx, "jwt", ServiceAccountJWTMount, nil); err != nil {
		return err
	}
	pub, err := e.serviceAccountKey()
	if err != nil {
		return err
	}
	if _, err := e.Write(ctx, "auth/"+ServiceAccountJWTMount+"/config", map[string]any{
		"jwt_validation_pubkeys": []string{pub}, "bound_issuer": strings.TrimSuffix(e.Config.Host, "/") + "/",
	}); err != nil {
		return err
	}
	body := map[string]any{"role_type": "jwt", "bound_audiences": []string{"vault"}, "user_claim": "sub",
		"bound_subject": "system:serviceaccount:" + ns + ":" + sa, "token_policies": "tenant-" + ns}
	for k, v := range tenantTokens {
		body[k] = v
	}
	_, err = e.Write(ctx, "auth/"+ServiceAccountJWTMount+"/role/"+role, body)
	return err
}

// serviceAccountKey is the PEM public key the API server signs ServiceAccount
// tokens with (envtest writes its certificate into the API server's CertDir).
func (e *Env) serviceAccountKey() (string, error) {
	b, err := os.ReadFile(filepath.Join(e.control.ControlPlane.APIServer.CertDir, "sa-signer.crt"))
	if err != nil {
		return "", fmt.Errorf("read the API server's ServiceAccount signing certificate: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", fmt.Errorf("the ServiceAccount signing certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("parse the ServiceAccount signing certificate: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		return "", fmt.Errorf("encode the ServiceAccount signing key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// TokenRoles lists the role metadata of every live token the server issued
// by login, by auth mount: which identities logged in.
func (e *Env) TokenRoles(ctx context.Context) ([]map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sec, err := e.VaultClient.Logical().ListWithContext(ctx, "auth/token/accessors")
	if err != nil || sec == nil {
		return nil, err
	}
	keys, _ := sec.Data["keys"].([]any)
	var out []map[string]string
	for _, k := range keys {
		acc, _ := k.(string)
		look, err := e.VaultClient.Logical().WriteWithContext(ctx, "auth/token/lookup-accessor", map[string]any{"accessor": acc})
		if err != nil || look == nil {
			continue // ended since the list
		}
		meta := map[string]string{}
		if m, ok := look.Data["meta"].(map[string]any); ok {
			for mk, mv := range m {
				meta[mk], _ = mv.(string)
			}
		}
		meta["path"], _ = look.Data["path"].(string)
		out = append(out, meta)
	}
	return out, nil
}

// TemplatedKubernetesRole creates one Kubernetes auth role for ServiceAccount
// sa of every namespace, whose policy lets each read and list only
// <prefix>/<its namespace>/, templated on the ServiceAccount's namespace
// (the "one role, a templated policy" setup of docs/multi-tenancy.md).
// prefix is a KV v2 data path such as "secret/data/apps".
func (e *Env) TemplatedKubernetesRole(ctx context.Context, role, sa, prefix string) error {
	if err := e.kubernetesRole(ctx, "unused-"+role, "default", sa, map[string]any{"token_ttl": "30s"}); err != nil { // the mount and its config
		return err
	}
	mounts, err := e.VaultClient.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("list auth mounts: %w", err)
	}
	m := mounts["kubernetes/"]
	if m == nil {
		return fmt.Errorf("no kubernetes/ auth mount")
	}
	policy := fmt.Sprintf(`path "%s/{{identity.entity.aliases.%s.metadata.service_account_namespace}}/*" { capabilities = ["read", "list"] }`, prefix, m.Accessor)
	if _, err := e.Write(ctx, "sys/policies/acl/templated-"+role, map[string]any{"policy": policy}); err != nil {
		return err
	}
	body := map[string]any{"bound_service_account_names": sa, "bound_service_account_namespaces": "*", "audience": "vault",
		"token_policies": "templated-" + role}
	for k, v := range tenantTokens {
		body[k] = v
	}
	_, err = e.Write(ctx, "auth/kubernetes/role/"+role, body)
	return err
}

// AuditStream points a socket audit device of the dev server (at path
// "<name>-feed") at addr, with token as every line's prefix, next to a file
// device ("<name>-file") so that the server never blocks on the socket. It
// waits until addr accepts connections: the server tries the socket when the
// device is enabled. disable removes both devices.
func (e *Env) AuditStream(ctx context.Context, name, addr, token string) (disable func(), err error) {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("nothing listens on %s for the audit stream: %w", addr, err)
		}
	}
	if _, err := e.Write(ctx, "sys/audit/"+name+"-file", map[string]any{"type": "file", "options": map[string]any{"file_path": "discard"}}); err != nil {
		return nil, err
	}
	if _, err := e.Write(ctx, "sys/audit/"+name+"-feed", map[string]any{"type": "socket",
		"options": map[string]any{"address": addr, "socket_type": "tcp", "prefix": token + " "}}); err != nil {
		return nil, err
	}
	return func() {
		_, _ = e.VaultClient.Logical().DeleteWithContext(context.Background(), "sys/audit/"+name+"-feed")
		_, _ = e.VaultClient.Logical().DeleteWithContext(context.Background(), "sys/audit/"+name+"-file")
	}, nil
}
