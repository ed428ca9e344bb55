package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// With -tenancy the scenario's ClusterSecretStore serves each namespace as
// itself (spec.tenancy): every namespace has a ServiceAccount "baosync" and
// logs in with it, with one Kubernetes auth role and a policy templated on the
// ServiceAccount's namespace (docs/multi-tenancy.md), and reads only
// bench/<namespace>/. Logins should equal the namespaces, and the reads of a
// refresh cycle the paths: a namespace's reads are shared only within it.

// tenantKey is the remote key of object i: a path of its own namespace.
func (s *scenario) tenantKey(i int) string {
	perNS := max(1, s.paths/s.cfg.namespaces)
	return fmt.Sprintf("bench/%s/p-%d", ns(i%s.cfg.namespaces), (i/s.cfg.namespaces)%perNS)
}

// seedTenancy writes each namespace's paths, its ServiceAccount, the role and
// policy, and creates the shared store.
func (s *scenario) seedTenancy(ctx context.Context) error {
	perNS := max(1, s.paths/s.cfg.namespaces)
	s.paths = perNS * s.cfg.namespaces
	err := parallel(ctx, 16, s.paths, func(i int) error {
		return s.env.KVPut(ctx, fmt.Sprintf("secret/bench/%s/p-%d", ns(i%s.cfg.namespaces), i/s.cfg.namespaces),
			map[string]any{"username": fmt.Sprintf("user-%d", i), "password": fmt.Sprintf("pw-%d", i)})
	})
	if err != nil {
		return err
	}
	err = parallel(ctx, 16, s.cfg.namespaces, func(i int) error {
		return s.cl.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "baosync", Namespace: ns(i)}})
	})
	if err != nil {
		return err
	}
	if err := s.env.TemplatedKubernetesRole(ctx, "tenants", "baosync", "secret/data/bench"); err != nil {
		return err
	}
	if _, err := s.env.OperatorConfig(ctx); err != nil { // creates the operator's namespace
		return err
	}
	path := "secret"
	return s.create(ctx, &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "vault"},
		Spec: v1alpha1.SecretStoreSpec{
			Tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "bench/{namespace}/"},
			Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
				Server: s.proxy.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
				Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "tenants"}}}}}})
}
