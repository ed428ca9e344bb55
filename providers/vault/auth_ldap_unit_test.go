package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// TestLdapCredentials_LoginPathBodyAndNamespaceRules: auth.ldap logs in at
// auth/<path>/login/<username> with the password of secretRef, under the same
// reference rules as every other method, and never names the password.
func TestLdapCredentials_LoginPathBodyAndNamespaceRules(t *testing.T) {
	const pw = "ldap-password-value"
	kube := secrets{"ns/ldap/password": pw, "ns/empty/password": "", "ops/ldap/password": pw}
	other := "ops"
	sel := func(name string, ns *string) v1alpha1.SecretKeySelector {
		return v1alpha1.SecretKeySelector{Name: name, Key: "password", Namespace: ns}
	}
	cases := []struct {
		name      string
		store     v1alpha1.GenericStore
		auth      v1alpha1.VaultLdapAuth
		wantPath  string
		wantErr   error
		errSubstr string
	}{
		{name: "the default mount is ldap", store: ldapNamespacedStore(), auth: v1alpha1.VaultLdapAuth{Username: "alice", SecretRef: sel("ldap", nil)},
			wantPath: "auth/ldap/login/alice"},
		{name: "a custom mount, slashes trimmed", store: ldapNamespacedStore(), auth: v1alpha1.VaultLdapAuth{Path: "/corp/ldap/", Username: "alice", SecretRef: sel("ldap", nil)},
			wantPath: "auth/corp/ldap/login/alice"},
		{name: "a SecretStore may not read another namespace", store: ldapNamespacedStore(), auth: v1alpha1.VaultLdapAuth{Username: "alice", SecretRef: sel("ldap", &other)},
			wantErr: providers.ErrInvalidConfig, errSubstr: `auth.ldap.secretRef names namespace "ops"`},
		{name: "a ClusterSecretStore must name the namespace", store: ldapClusterStore(), auth: v1alpha1.VaultLdapAuth{Username: "alice", SecretRef: sel("ldap", nil)},
			wantErr: providers.ErrInvalidConfig, errSubstr: "auth.ldap.secretRef of a ClusterSecretStore must name a namespace"},
		{name: "a ClusterSecretStore reads the namespace it names", store: ldapClusterStore(), auth: v1alpha1.VaultLdapAuth{Username: "alice", SecretRef: sel("ldap", &other)},
			wantPath: "auth/ldap/login/alice"},
		{name: "an empty password is an auth failure", store: ldapNamespacedStore(), auth: v1alpha1.VaultLdapAuth{Username: "alice", SecretRef: sel("empty", nil)},
			wantErr: providers.ErrAuth, errSubstr: "auth.ldap.secretRef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ldapCredentials(context.Background(), &refResolver{kube: kube, store: tc.store}, &tc.auth)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errSubstr) || strings.Contains(err.Error(), pw) {
					t.Fatalf("err = %v; want %v naming %q, without the password", err, tc.wantErr, tc.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := c.body(context.Background())
			if c.method != "ldap" || c.loginPath != tc.wantPath || body["password"] != pw || len(body) != 1 {
				t.Fatalf("credentials = %s %s %d fields; want ldap %s with the password only", c.method, c.loginPath, len(body), tc.wantPath)
			}
		})
	}
}

func ldapNamespacedStore() *v1alpha1.SecretStore {
	return &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}}
}

func ldapClusterStore() *v1alpha1.ClusterSecretStore {
	return &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "c"}}
}
