package externalsecret

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert"
	"github.com/baosync/baosync/test/testenv"
)

// ldapUser starts a real slapd for t, adds user (member of group readers) with
// password, and mounts Vault's ldap auth method at mount against it. Vault's
// bind password (the directory's root password) joins the leak scan.
func ldapUser(t *testing.T, mount, user, password string) *testenv.LDAPServer {
	t.Helper()
	g := NewWithT(t)
	s := testenv.LDAPForTest(t)
	leak.Secret(s.RootPassword)
	ctx := context.Background()
	g.Expect(s.AddUser(ctx, user, password, "readers")).To(Succeed())
	g.Expect(env.LDAPAuth(ctx, mount, s, "readers")).To(Succeed())
	return s
}

// TestAuthLDAP_DirectoryUserLogsInAndSyncs: a SecretStore with auth.ldap logs
// in as a user of a real OpenLDAP directory, whose group grants the read
// policy, and an ExternalSecret syncs through it.
func TestAuthLDAP_DirectoryUserLogsInAndSyncs(t *testing.T) {
	t.Parallel() // own namespace, slapd, auth mount and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	mount := "ldap-" + ns
	_ = ldapUser(t, mount, "reader", leak.Secret("ldap-pw-"+ns))
	createSecret(t, ns, "ldap", map[string]string{"password": "ldap-pw-" + ns})
	createStore(t, ns, "vault", v1alpha1.VaultAuth{Ldap: &v1alpha1.VaultLdapAuth{Path: mount, Username: "reader",
		SecretRef: v1alpha1.SecretKeySelector{Name: "ldap", Key: "password"}}})
	waitStoreReady(t, ns, "vault", metav1.ConditionTrue, v1alpha1.ReasonStoreValid)
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("ldap-value-" + ns)})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k")))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{"k": "ldap-value-" + ns}))
}

// TestAuthLDAP_RefusedLoginsSayWhereAndNeverThePassword: the directory refuses
// a wrong password (AuthFailed naming the login path, with neither password in
// the message; the leak scan checks logs and events too), and a SecretStore
// may not read its password from another namespace.
func TestAuthLDAP_RefusedLoginsSayWhereAndNeverThePassword(t *testing.T) {
	t.Parallel() // own namespaces, slapd and auth mount
	cases := []struct {
		name    string
		setup   func(t *testing.T, ns string) *v1alpha1.VaultLdapAuth
		reason  string
		message string
	}{{
		name: "a wrong password",
		setup: func(t *testing.T, ns string) *v1alpha1.VaultLdapAuth {
			_ = ldapUser(t, "ldap-"+ns, "reader", leak.Secret("right-ldap-pw-"+ns))
			createSecret(t, ns, "ldap", map[string]string{"password": leak.Secret("wrong-ldap-pw-" + ns)})
			return &v1alpha1.VaultLdapAuth{Path: "ldap-" + ns, Username: "reader", SecretRef: v1alpha1.SecretKeySelector{Name: "ldap", Key: "password"}}
		},
		reason: v1alpha1.ReasonAuthFailed, message: "login at auth/ldap-{ns}/login/reader",
	}, {
		name: "a password Secret of another namespace",
		setup: func(t *testing.T, ns string) *v1alpha1.VaultLdapAuth {
			other := "default"
			return &v1alpha1.VaultLdapAuth{Username: "reader", SecretRef: v1alpha1.SecretKeySelector{Name: "ldap", Key: "password", Namespace: &other}}
		},
		reason: v1alpha1.ReasonInvalidStoreConfig, message: `auth.ldap.secretRef names namespace "default"`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			createStore(t, ns, "vault", v1alpha1.VaultAuth{Ldap: tc.setup(t, ns)})
			waitStoreReady(t, ns, "vault", metav1.ConditionFalse, tc.reason)
			g := NewWithT(t)
			s := &v1alpha1.SecretStore{}
			g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "vault"}, s)).To(Succeed())
			c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			t.Logf("Ready=False %s: %s", c.Reason, c.Message)
			g.Expect(c.Message).To(ContainSubstring(strings.ReplaceAll(tc.message, "{ns}", ns)))
			// Neither password, nor the directory's root password Vault binds with.
			g.Expect(c.Message).NotTo(Or(ContainSubstring("ldap-pw-"), ContainSubstring("ldap-root-")))
		})
	}
}

// ldapSample prepares config/samples/auth_ldap.yaml: a directory user baosync
// in group readers, Vault's ldap auth method at the default mount "ldap", and
// the ldap-password Secret in ns. Without OpenLDAP (and outside CI) it returns
// false, and the samples test leaves that one sample out instead of skipping.
func ldapSample(t *testing.T, ns string) bool {
	t.Helper()
	if err := testenv.LDAPAvailable(); err != nil && os.Getenv("CI") != "true" {
		t.Logf("config/samples/auth_ldap.yaml left out: %v", err)
		return false
	}
	_ = ldapUser(t, "ldap", "baosync", leak.Secret("sample-ldap-pw"))
	createSecret(t, ns, "ldap-password", map[string]string{"password": "sample-ldap-pw"})
	return true
}

// esoLDAPManifest is an ESO SecretStore with auth.ldap, written as ESO's
// documentation shows it, and an ExternalSecret using it.
const esoLDAPManifest = `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: vault-backend
spec:
  provider:
    vault:
      server: "VAULT_ADDR"
      path: "secret"
      version: "v2"
      auth:
        # VaultLdap authenticates with Vault using the LDAP auth mechanism
        ldap:
          path: "MOUNT"
          username: "reader"
          secretRef:
            name: "ldap-secret"
            key: "ldap-password"
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: from-ldap
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: vault-backend
    kind: SecretStore
  data:
    - secretKey: k
      remoteRef:
        key: KEY
        property: k
`

// TestAuthLDAP_ESOManifestConvertsAppliesAndSyncs: ESO's auth.ldap store goes
// through baosync convert without a warning, applies, and syncs against a
// real directory.
func TestAuthLDAP_ESOManifestConvertsAppliesAndSyncs(t *testing.T) {
	t.Parallel() // own namespace, slapd, auth mount and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	mount := "ldap-eso-" + ns
	_ = ldapUser(t, mount, "reader", leak.Secret("eso-ldap-pw-"+ns))
	createSecret(t, ns, "ldap-secret", map[string]string{"ldap-password": "eso-ldap-pw-" + ns})
	path := kvPath(t, "eso-ldap")
	putKV(t, path, map[string]any{"k": leak.Secret("eso-ldap-value-" + ns)})
	src := strings.NewReplacer("VAULT_ADDR", env.Vault.Addr, "MOUNT", mount, "KEY", path[len("secret/"):]).Replace(esoLDAPManifest)
	var out bytes.Buffer
	warnings, err := esoconvert.Convert(strings.NewReader(src), &out)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warnings).To(BeEmpty())
	g.Expect(out.String()).To(ContainSubstring("ldap:\n          path: \"" + mount + "\""))
	for _, doc := range strings.Split(out.String(), "\n---\n") {
		u := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
		u.SetNamespace(ns)
		g.Expect(k8s.Create(ctx, u)).To(Succeed(), "create converted %s %s", u.GetKind(), u.GetName())
	}
	waitReady(t, ns, "from-ldap", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "from-ldap")).To(Equal(map[string]string{"k": "eso-ldap-value-" + ns}))
}
