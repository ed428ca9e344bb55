package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// sharedStore is a ClusterSecretStore with a tenancy section at an address
// nothing listens on: any request that left the operator would fail as
// unavailable, so a PermissionDenied proves the refusal came first.
func sharedStore(t *v1alpha1.StoreTenancy) *v1alpha1.ClusterSecretStore {
	path := "secret"
	return &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "shared", UID: types.UID("shared"), Generation: 1},
		Spec: v1alpha1.SecretStoreSpec{Tenancy: t, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: "http://127.0.0.1:1", Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "unused"}}}}}}
}

func TestTenancy_KeysOutsideTheNamespacesPrefixAreRefusedBeforeAnyRequest(t *testing.T) {
	store := sharedStore(&v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "apps/{namespace}/"})
	p := New()
	c, err := p.NewClient(context.Background(), store, secrets{}, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	outside := []string{
		"apps/team-b/db",              // another namespace's prefix
		"secret/apps/team-b/db",       // the same, repeating the mount
		"secret/data/apps/team-b/db",  // the same, in the API form
		"/apps/team-b/db",             // an absolute form
		"apps/team-a/../team-b/db",    // a dot-dot segment
		"apps/team-a/%2e%2e/team-b/x", // an encoded dot-dot
		"apps/team-a%2Fx/db",          // an encoded separator
		"apps/team-a",                 // the prefix itself is no secret
		"apps/team-ab/db",             // a sibling that shares the prefix's text
		"db",                          // a key that leaves out the prefix
		"sys/mounts",                  // a reserved path
	}
	for _, key := range outside {
		_, err := c.GetSecret(ctx, providers.RemoteRef{Key: key})
		if !errors.Is(err, providers.ErrPermissionDenied) || !strings.Contains(err.Error(), "apps/team-a/") {
			t.Errorf("GetSecret(%q) = %v; want PermissionDenied naming the prefix apps/team-a/", key, err)
		}
		_, err = c.PushSecret(ctx, providers.PushRef{Key: key, Property: "p"}, []byte("v"))
		if !errors.Is(err, providers.ErrPermissionDenied) {
			t.Errorf("PushSecret(%q) = %v; want PermissionDenied", key, err)
		}
		if err := c.DeleteSecret(ctx, providers.PushRef{Key: key, Property: "p"}); !errors.Is(err, providers.ErrPermissionDenied) {
			t.Errorf("DeleteSecret(%q) = %v; want PermissionDenied", key, err)
		}
	}
	for _, root := range []string{"apps/team-b", "apps", "secret/apps", "apps/team-a/../team-b"} {
		if _, err := c.GetAllSecrets(ctx, providers.FindRef{Path: root}); !errors.Is(err, providers.ErrPermissionDenied) {
			t.Errorf("GetAllSecrets(path %q) = %v; want PermissionDenied", root, err)
		}
	}
	// A key inside the prefix goes on to the server, which is not there.
	if _, err := c.GetSecret(ctx, providers.RemoteRef{Key: "apps/team-a/db"}); errors.Is(err, providers.ErrPermissionDenied) || err == nil {
		t.Errorf("GetSecret inside the prefix = %v; want it sent (and failing: no server)", err)
	}
}

func ptr(s string) *string { return &s }
