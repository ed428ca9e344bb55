package vault

import (
	"context"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// refResolver applies the namespace rules to a store's references and reads them
// through the narrow Kube interface: a SecretStore reaches only its own
// namespace; a ClusterSecretStore must name the namespace of every reference.
// A ClusterSecretStore's reference is never resolved in the namespace of the
// object using the store: that would let a tenant choose the credentials an
// admin's store logs in with.
type refResolver struct {
	kube  providers.Kube
	store v1alpha1.GenericStore
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
	return "", fmt.Errorf("%s of a ClusterSecretStore must name a namespace: a Secret is never read from the namespace of the object using the store "+
		"(its tenant would choose the credentials); to log each namespace in as itself, use a ServiceAccount without a namespace "+
		"(auth.kubernetes.serviceAccountRef or auth.jwt.kubernetesServiceAccountToken) or spec.tenancy (docs/multi-tenancy.md): %w",
		field, providers.ErrInvalidConfig)
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
