package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	if code, ran := testenv.WithoutServers(m); ran {
		os.Exit(code)
	}
	env, err := testenv.Start(context.Background(), testenv.Options{NoVault: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s = env.Client
	code := m.Run()
	env.Stop()
	os.Exit(code)
}

func store(mod func(*v1alpha1.VaultProvider)) *v1alpha1.SecretStore {
	v := &v1alpha1.VaultProvider{Server: "https://bao.example.com",
		Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "t", Key: "token"}}}
	if mod != nil {
		mod(v)
	}
	return &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{GenerateName: "s-", Namespace: "default"},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: v}}}
}

func externalSecret(mod func(*v1alpha1.ExternalSecretSpec)) *v1alpha1.ExternalSecret {
	es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{GenerateName: "e-", Namespace: "default"},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
			Data: []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "app"}}}}}
	if mod != nil {
		mod(&es.Spec)
	}
	return es
}

func pushSecret(mod func(*v1alpha1.PushSecretSpec)) *v1alpha1.PushSecret {
	ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{GenerateName: "p-", Namespace: "default"},
		Spec: v1alpha1.PushSecretSpec{SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault"}},
			Selector: v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
			Data:     []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "k", RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: "a"}}}}}}
	mod(&ps.Spec)
	return ps
}

func TestAdmission(t *testing.T) {
	roleID := "r"
	cases := []struct {
		name   string
		obj    client.Object
		reject string // part of the API server's message; empty: accepted
	}{
		{name: "accepts a minimal store", obj: store(nil)},
		{name: "refuses two auth methods", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth.UserPass = &v1alpha1.VaultUserPassAuth{Username: "u", SecretRef: v1alpha1.SecretKeySelector{Name: "p", Key: "k"}}
		}), reject: "set exactly one auth method"},
		{name: "refuses no auth method", obj: store(func(v *v1alpha1.VaultProvider) { v.Auth = v1alpha1.VaultAuth{} }), reject: "set exactly one auth method"},
		{name: "accepts LDAP auth", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Ldap: &v1alpha1.VaultLdapAuth{Username: "u", SecretRef: v1alpha1.SecretKeySelector{Name: "p", Key: "k"}}}
		})},
		{name: "refuses LDAP auth next to another method", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth.Ldap = &v1alpha1.VaultLdapAuth{Username: "u", SecretRef: v1alpha1.SecretKeySelector{Name: "p", Key: "k"}}
		}), reject: "set exactly one auth method"},
		{name: "refuses LDAP auth without a username", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Ldap: &v1alpha1.VaultLdapAuth{SecretRef: v1alpha1.SecretKeySelector{Name: "p", Key: "k"}}}
		}), reject: "spec.provider.vault.auth.ldap.username"},
		{name: "refuses AppRole with both roleId and roleRef", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &roleID, RoleRef: &v1alpha1.SecretKeySelector{Name: "r"},
				SecretRef: v1alpha1.SecretKeySelector{Name: "s", Key: "k"}}}
		}), reject: "exactly one of roleId and roleRef"},
		{name: "refuses a server that is not an http(s) URL", obj: store(func(v *v1alpha1.VaultProvider) { v.Server = "bao.example.com" }), reject: "spec.provider.vault.server"},
		{name: "refuses an unknown KV version", obj: store(func(v *v1alpha1.VaultProvider) { v.Version = "v3" }), reject: "Unsupported value"},
		{name: "refuses conditions on a namespaced store", obj: func() client.Object {
			s := store(nil)
			s.Spec.Conditions = []v1alpha1.ClusterSecretStoreCondition{{Namespaces: []string{"a"}}}
			return s
		}(), reject: "applies to ClusterSecretStore only"},
		{name: "refuses a SecretStore that would log in with the operator's own identity", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r"}}
		}), reject: "cannot log in with the operator's own identity"},
		{name: "accepts a SecretStore with Kubernetes auth for its own ServiceAccount", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r", ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "app"}}}
		})},
		{name: "accepts Kubernetes auth with both serviceAccountRef and secretRef, as ESO does", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r", ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "app"},
				SecretRef: &v1alpha1.SecretKeySelector{Name: "t", Key: "token"}}}
		})},
		{name: "accepts JWT auth with both secretRef and kubernetesServiceAccountToken, as ESO does", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{Role: "r", SecretRef: &v1alpha1.SecretKeySelector{Name: "t", Key: "jwt"},
				KubernetesServiceAccountToken: &v1alpha1.VaultKubernetesServiceAccountTokenAuth{ServiceAccountRef: v1alpha1.ServiceAccountSelector{Name: "app"}}}}
		})},
		{name: "refuses JWT auth with no token source", obj: store(func(v *v1alpha1.VaultProvider) {
			v.Auth = v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{Role: "r"}}
		}), reject: "set secretRef or kubernetesServiceAccountToken"},
		{name: "refuses a store re-checked more often than every 10 seconds", obj: func() client.Object {
			s := store(nil)
			s.Spec.RefreshInterval = 1
			return s
		}(), reject: "at least 10 seconds"},
		{name: "accepts a minimal ExternalSecret", obj: externalSecret(nil)},
		{name: "refuses a refreshInterval below one second", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.RefreshInterval = &metav1.Duration{Duration: 1}
		}), reject: "at least 1s"},
		{name: "accepts refreshInterval 0 (read once)", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.RefreshInterval = &metav1.Duration{}
		})},
		{name: "refuses an ExternalSecret with nothing to read", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) { s.Data = nil }), reject: "at least one entry"},
		{name: "refuses a duplicate secretKey", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) { s.Data = append(s.Data, s.Data[0]) }), reject: "only once"},
		{name: "refuses an invalid secretKey", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) { s.Data[0].SecretKey = "a/b" }), reject: "secretKey"},
		{name: "refuses an invalid duration", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.RefreshInterval = &metav1.Duration{Duration: -1}
		}), reject: "refreshInterval"},
		{name: "refuses an invalid target name", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) { s.Target.Name = "Not_A_Name" }), reject: "target.name"},
		{name: "refuses deletionPolicy Delete with creationPolicy Merge", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.Target.CreationPolicy, s.Target.DeletionPolicy = v1alpha1.CreationPolicyMerge, v1alpha1.DeletionPolicyDelete
		}), reject: "cannot be combined"},
		{name: "refuses deletionPolicy Delete with creationPolicy CreateOrMerge", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.Target.CreationPolicy, s.Target.DeletionPolicy = v1alpha1.CreationPolicyCreateOrMerge, v1alpha1.DeletionPolicyDelete
		}), reject: "cannot be combined"},
		{name: "accepts creationPolicy CreateOrMerge", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.Target.CreationPolicy = v1alpha1.CreationPolicyCreateOrMerge
		})},
		{name: "accepts a deny sync window", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.SyncWindows = &v1alpha1.SyncWindows{Kind: v1alpha1.SyncWindowDeny, Windows: []v1alpha1.SyncWindow{{Schedule: "0 22 * * 1-5", Duration: metav1.Duration{Duration: 3600e9}}}}
		})},
		{name: "refuses a sync window schedule that is no cron expression", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.SyncWindows = &v1alpha1.SyncWindows{Kind: v1alpha1.SyncWindowAllow, Windows: []v1alpha1.SyncWindow{{Schedule: "tonight", Duration: metav1.Duration{Duration: 3600e9}}}}
		}), reject: "schedule"},
		{name: "refuses a PushSecret naming a store twice", obj: pushSecret(func(s *v1alpha1.PushSecretSpec) {
			s.SecretStoreRefs = append(s.SecretStoreRefs, v1alpha1.SecretStoreRef{Name: "vault", Kind: v1alpha1.SecretStoreKindNamespaced})
		}), reject: "each store may be named once"},
		{name: "refuses a PushSecret with neither data nor dataTo", obj: pushSecret(func(s *v1alpha1.PushSecretSpec) { s.Data = nil }),
			reject: "set data (one entry per key) or dataTo"},
		{name: "refuses a dataTo entry with both remoteKey and rewrite", obj: pushSecret(func(s *v1alpha1.PushSecretSpec) {
			s.DataTo = []v1alpha1.PushSecretDataTo{{StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "vault"}, RemoteKey: "b",
				Rewrite: []v1alpha1.ExternalSecretRewrite{{Regexp: &v1alpha1.RewriteRegexp{Source: "a", Target: "b"}}}}}
		}), reject: "set one of them"},
		{name: "accepts a PushSecret pushing with dataTo only", obj: pushSecret(func(s *v1alpha1.PushSecretSpec) {
			s.Data = nil
			s.DataTo = []v1alpha1.PushSecretDataTo{{StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "vault"}, RemoteKey: "b"}}
		})},
		{name: "refuses a dataFrom entry that says nothing", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{}}
		}), reject: "set exactly one of extract, find and sourceRef.generatorRef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8s.Create(context.Background(), tc.obj)
			if tc.reject == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.reject)))
		})
	}
}
