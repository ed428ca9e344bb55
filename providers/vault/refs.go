package vault

import (
	"context"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// refResolver applies the namespace rules to a store's references and reads them
// through the narrow Kube interface: a SecretStore reaches only its own
// namespace; a ClusterSecretStore names the namespace, or falls back to the
// namespace of the object using it.
type refResolver struct {
	kube           providers.Kube
	store          v1alpha1.GenericStore
	usingNamespace string
}

// namespace returns the namespace a reference resolves to.
func (r *refResolver) namespace(ns *string, field string) (string, error) {
	given := ""
	if ns != nil {
		given = *ns
	}
	if r.store.GetKind() == v1alpha1.SecretStoreKindNamespaced {
		if given != "" && given != r.store.GetNamespace() {
			return "", fmt.Errorf("%s names namespace %q, but a SecretStore may only reference its own namespace %q: %w",
				field, given, r.store.GetNamespace(), providers.ErrInvalidConfig)
		}
		return r.store.GetNamespace(), nil
	}
	if given != "" {
		return given, nil
	}
	if r.usingNamespace != "" {
		return r.usingNamespace, nil
	}
	return "", fmt.Errorf("%s of a ClusterSecretStore must name a namespace: %w", field, providers.ErrInvalidConfig)
}

// secret reads the key a selector names (defaultKey when it names none). A
// failure wraps sentinel, so that a missing auth Secret reads as an auth failure
// and a missing TLS Secret as a configuration error.
func (r *refResolver) secret(ctx context.Context, sel *v1alpha1.SecretKeySelector, defaultKey, field string, sentinel error) ([]byte, error) {
	ns, err := r.namespace(sel.Namespace, field)
	if err != nil {
		return nil, err
	}
	key := sel.Key
	if key == "" {
		key = defaultKey
	}
	if key == "" {
		return nil, fmt.Errorf("%s must name a key of Secret %s/%s: %w", field, ns, sel.Name, providers.ErrInvalidConfig)
	}
	b, err := r.kube.SecretValue(ctx, ns, sel.Name, key)
	if err != nil {
		return nil, fmt.Errorf("%s: read key %q of Secret %s/%s: %w: %w", field, key, ns, sel.Name, sentinel, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: key %q of Secret %s/%s is empty: %w", field, key, ns, sel.Name, sentinel)
	}
	return b, nil
}

// dependsOnUsingNamespace reports whether a ClusterSecretStore leaves the
// namespace of some reference empty, so that its client differs per namespace.
func dependsOnUsingNamespace(store v1alpha1.GenericStore) bool {
	if store.GetKind() != v1alpha1.SecretStoreKindCluster {
		return false
	}
	v := store.GetSpec().Provider.Vault
	if v == nil {
		return false
	}
	var nss []*string
	if v.CAProvider != nil {
		nss = append(nss, v.CAProvider.Namespace)
	}
	if v.TLS != nil {
		for _, s := range []*v1alpha1.SecretKeySelector{v.TLS.CertSecretRef, v.TLS.KeySecretRef} {
			if s != nil {
				nss = append(nss, s.Namespace)
			}
		}
	}
	nss = append(nss, authNamespaces(&v.Auth)...)
	for _, ns := range nss {
		if ns == nil || *ns == "" {
			return true
		}
	}
	return false
}

// authNamespaces lists the namespace fields of every reference of the auth method.
func authNamespaces(a *v1alpha1.VaultAuth) []*string {
	var out []*string
	add := func(s *v1alpha1.SecretKeySelector) {
		if s != nil {
			out = append(out, s.Namespace)
		}
	}
	switch {
	case a.TokenSecretRef != nil:
		add(a.TokenSecretRef)
	case a.AppRole != nil:
		add(a.AppRole.RoleRef)
		add(&a.AppRole.SecretRef)
	case a.Kubernetes != nil:
		add(a.Kubernetes.SecretRef)
		if a.Kubernetes.ServiceAccountRef != nil {
			out = append(out, a.Kubernetes.ServiceAccountRef.Namespace)
		}
	case a.UserPass != nil:
		add(&a.UserPass.SecretRef)
	case a.Jwt != nil:
		add(a.Jwt.SecretRef)
		if t := a.Jwt.KubernetesServiceAccountToken; t != nil {
			out = append(out, t.ServiceAccountRef.Namespace)
		}
	case a.Cert != nil:
		add(&a.Cert.ClientCert)
		add(&a.Cert.SecretRef)
	}
	return out
}
