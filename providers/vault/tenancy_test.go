package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

func TestProvider_RevokesItsTokenWhenTheStoreGoesOrItsCredentialsChange(t *testing.T) {
	ctx := context.Background()
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(ctx, "secret/data/revoke", map[string]any{"data": map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	store, kube := appRoleStore(t, root, "revoke")
	p := New(WithAuthRecheck(0))
	loggedIn := func() string {
		t.Helper()
		c, err := p.NewClient(ctx, store, kube, "ns")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetSecret(ctx, providers.RemoteRef{Key: "revoke", Property: "k"}); err != nil {
			t.Fatal(err)
		}
		return c.(*handle).currentToken()
	}
	alive := func(tok string) bool {
		_, err := root.Logical().WriteWithContext(ctx, "auth/token/lookup", map[string]any{"token": tok})
		return err == nil
	}

	first := loggedIn()
	p.Release(v1alpha1.SecretStoreKindNamespaced, "ns", "revoke")
	if alive(first) {
		t.Fatal("the token of a deleted store is still valid")
	}

	second := loggedIn()
	sid, err := root.Logical().WriteWithContext(ctx, "auth/approle/role/revoke/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	kube["ns/ar/sid"] = sid.Data["secret_id"].(string) // the credentials rotate
	if third := loggedIn(); third == second {
		t.Fatal("a rotated credential did not lead to a new login")
	}
	if alive(second) {
		t.Fatal("the token obtained with the old credentials is still valid")
	}
}

func TestOperatorIdentity_OnlyAClusterStoreOfAnOperatorThatAllowsIt(t *testing.T) {
	own := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(own, []byte("api-server-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: server.Addr,
		Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r"}}}}}
	meta := metav1.ObjectMeta{Name: "own", Namespace: "tenant", UID: types.UID("own"), Generation: 1}
	cluster := metav1.ObjectMeta{Name: "own", UID: types.UID("own-c"), Generation: 1}
	cases := []struct {
		name    string
		store   v1alpha1.GenericStore
		allowed bool
		want    string
	}{
		{"a SecretStore never", &v1alpha1.SecretStore{ObjectMeta: meta, Spec: spec}, true, "a SecretStore never may"},
		{"a ClusterSecretStore not without the flag", &v1alpha1.ClusterSecretStore{ObjectMeta: cluster, Spec: spec}, false, "--cluster-store-operator-identity"},
		{"a ClusterSecretStore never with an API credential", &v1alpha1.ClusterSecretStore{ObjectMeta: cluster, Spec: spec}, true, "accepts this token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := New(WithOwnTokenFile(own), WithOperatorIdentity(tc.allowed))
			kube := secrets{"api-accepts/api-server-token": "yes"}
			c, err := p.NewClient(context.Background(), tc.store, kube, "tenant")
			if err == nil {
				err = c.Validate(context.Background())
			}
			if !errors.Is(err, providers.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalidConfig saying %q", err, tc.want)
			}
		})
	}
}
