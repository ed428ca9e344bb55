package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
	"github.com/baosync/baosync/test/testenv"
)

// TestTLS starts a second dev server that serves https with its own CA, and
// checks caBundle verification and certificate login against it.
func TestTLS(t *testing.T) {
	ctx := context.Background()
	tlsServer, err := testenv.StartVault(ctx, testenv.VaultOptions{Dir: t.TempDir(), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tlsServer.Stop() })
	root, err := tlsServer.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(ctx, "secret/data/tls", map[string]any{"data": map[string]any{"k": "over-tls"}}); err != nil {
		t.Fatal(err)
	}
	clientCA, clientCert, clientKey := clientCertificate(t)
	for _, w := range []struct {
		path string
		data map[string]any
	}{
		{"sys/policies/acl/read", map[string]any{"policy": testenv.ReadPolicy}},
		{"sys/auth/cert", map[string]any{"type": "cert"}},
		{"auth/cert/certs/baosync", map[string]any{"certificate": string(clientCA), "token_policies": "read"}},
	} {
		if _, err := root.Logical().WriteWithContext(ctx, w.path, w.data); err != nil {
			t.Fatal(err)
		}
	}
	kube := secrets{"ns/tok/token": tlsServer.Token, "ns/client/tls.crt": string(clientCert), "ns/client/tls.key": string(clientKey)}
	otherCA, _, _ := clientCertificate(t)
	tokenAuth := v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}
	certAuth := v1alpha1.VaultAuth{Cert: &v1alpha1.VaultCertAuth{Role: "baosync",
		ClientCert: v1alpha1.SecretKeySelector{Name: "client", Key: "tls.crt"}, SecretRef: v1alpha1.SecretKeySelector{Name: "client", Key: "tls.key"}}}
	cases := []struct {
		name     string
		ca       []byte
		auth     v1alpha1.VaultAuth
		wantErr  error
		errorHas string
	}{
		{name: "a caBundle with the server's CA verifies the server", ca: tlsServer.CACert, auth: tokenAuth},
		{name: "cert auth logs in with the client certificate", ca: tlsServer.CACert, auth: certAuth},
		{name: "a wrong CA fails with a clear reason", ca: otherCA, auth: tokenAuth, wantErr: providers.ErrUnavailable, errorHas: "certificate"},
		{name: "a caBundle without a PEM certificate is a configuration error", ca: []byte("not pem"), auth: tokenAuth, wantErr: providers.ErrInvalidConfig, errorHas: "caBundle"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "secret"
			store := &v1alpha1.SecretStore{
				ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: "ns", UID: "tls-uid", Generation: int64(i + 1)},
				Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
					Server: tlsServer.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2, CABundle: tc.ca, Auth: tc.auth}}},
			}
			c, err := New().NewClient(ctx, store, kube, "ns")
			if err == nil {
				_, err = c.GetSecret(ctx, providers.RemoteRef{Key: "tls", Property: "k"})
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errorHas) {
				t.Fatalf("got %v, want %v mentioning %q", err, tc.wantErr, tc.errorHas)
			}
		})
	}
}

// clientCertificate returns a CA and a client certificate and key it signed, in PEM.
func clientCertificate(t *testing.T) (ca, cert, key []byte) {
	t.Helper()
	ca, cert, key, err := testenv.ClientCertificate("baosync")
	if err != nil {
		t.Fatal(err)
	}
	return ca, cert, key
}
