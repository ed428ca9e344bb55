package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// sharedStore is a ClusterSecretStore with Kubernetes auth on the secret
// mount, changed by mod.
func sharedStore(mod func(*v1alpha1.SecretStoreSpec)) *v1alpha1.ClusterSecretStore {
	path := "secret"
	s := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{GenerateName: "shared-"}, Spec: v1alpha1.SecretStoreSpec{
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: "https://bao.example.com", Path: &path,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r"}}}},
		Tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "apps/{namespace}/"}}}
	if mod != nil {
		mod(&s.Spec)
	}
	return s
}

func TestAdmission_Tenancy(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name   string
		obj    client.Object
		reject string
	}{
		{name: "accepts a tenancy section with the namespace as a prefix segment", obj: sharedStore(nil)},
		{name: "accepts labels, a role, a mount and an OpenBao namespace", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Tenancy.Role, s.Tenancy.Mount, s.Tenancy.Namespace = str("ns-{namespace}"), str("kv-{label:example.com/team}"), str("teams/{label:team}")
		})},
		{name: "accepts the namespace as a segment of the OpenBao namespace instead", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Tenancy.PathPrefix, s.Tenancy.Namespace = "", str("tenants/{namespace}")
		})},
		{name: "refuses a prefix where the namespace is part of a segment", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Tenancy.PathPrefix = "apps/ns-{namespace}/"
		}), reject: "whole path segment"},
		{name: "refuses a prefix without the namespace", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Tenancy.PathPrefix = "apps/{label:team}/"
		}), reject: "whole path segment"},
		{name: "refuses a placeholder that is not namespace or label", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Tenancy.Role = str("{name}")
		}), reject: "spec.tenancy.role"},
		{name: "refuses a function in a template", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Tenancy.PathPrefix = "apps/{namespace}/{{ upper .Namespace }}"
		}), reject: "spec.tenancy.pathPrefix"},
		{name: "refuses tenancy with an auth method that has no ServiceAccount", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Provider.Vault.Auth = v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "t", Namespace: str("ops")}}
		}), reject: "logs each namespace in with its own ServiceAccount"},
		{name: "refuses tenancy without a KV mount", obj: sharedStore(func(s *v1alpha1.SecretStoreSpec) {
			s.Provider.Vault.Path = nil
		}), reject: "needs a KV mount"},
		{name: "refuses tenancy on a SecretStore", obj: store(func(v *v1alpha1.VaultProvider) {}), reject: ""},
	}
	ns := store(nil)
	ns.Spec.Tenancy = &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "apps/{namespace}/"}
	cases[len(cases)-1] = struct {
		name   string
		obj    client.Object
		reject string
	}{name: "refuses tenancy on a SecretStore", obj: ns, reject: "spec.tenancy applies to ClusterSecretStore only"}
	cg := &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{GenerateName: "cg-"}, Spec: v1alpha1.ClusterGeneratorSpec{
		Kind: v1alpha1.GeneratorKindPassword, Generator: v1alpha1.GeneratorSpec{PasswordSpec: &v1alpha1.PasswordSpec{Length: 16}},
		Tenancy: &v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}}}
	cases = append(cases, struct {
		name   string
		obj    client.Object
		reject string
	}{name: "refuses tenancy on a ClusterGenerator that asks no server", obj: cg, reject: "tenancy applies to a VaultDynamicSecret generator"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8s.Create(context.Background(), c.obj)
			if c.reject == "" {
				g.Expect(err).NotTo(HaveOccurred())
				_ = k8s.Delete(context.Background(), c.obj)
				return
			}
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(c.reject))
		})
	}
}
