package providers

import "github.com/baosync/baosync/api/v1alpha1"

// NamespaceDependent reports whether a ClusterSecretStore leaves the namespace
// of an auth or TLS reference empty. Such references resolve in the namespace
// of the object using the store, so its client differs per namespace and the
// store alone cannot be validated.
func NamespaceDependent(store v1alpha1.GenericStore) bool {
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

// authNamespaces lists the namespace field of every reference of the auth
// method. Kubernetes auth without a reference uses the operator's own token and
// depends on no namespace.
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
