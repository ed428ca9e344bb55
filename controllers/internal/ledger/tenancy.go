package ledger

import (
	"context"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/tenancy"
	"github.com/baosync/baosync/providers"
)

// tenantProvider is a ClusterGenerator's provider as namespace logs in with
// it under the generator's tenancy: the ServiceAccount named without a
// namespace (which the provider resolves in the namespace that uses the
// generator, the referent form), with the role and OpenBao/Vault namespace
// filled in for it. The request path stays the admin's.
func (lg *Ledger) tenantProvider(ctx context.Context, v *v1alpha1.VaultProvider, t *v1alpha1.TenantIdentity, namespace string) (*v1alpha1.VaultProvider, error) {
	ns := tenancy.Namespace{Name: namespace}
	if tenancy.UsesLabels(deref(t.Role), deref(t.Namespace)) {
		labels, err := lg.kube().NamespaceLabels(ctx, namespace)
		if err != nil {
			return nil, fmt.Errorf("read the labels of namespace %q for the tenancy section: %w: %w", namespace, providers.ErrUnavailable, err)
		}
		ns.Labels = labels
	}
	out := v.DeepCopy()
	sa := v1alpha1.ServiceAccountSelector{Name: t.ServiceAccountName}
	role := ""
	if t.Role != nil {
		if !tenancy.RoleSafe(*t.Role) {
			return nil, fmt.Errorf("tenancy.role %q names a label but not {namespace}: a tenant who can label its namespace would choose another's role: %w", *t.Role, providers.ErrInvalidConfig)
		}
		r, err := tenancy.Expand(*t.Role, ns)
		if err != nil {
			return nil, fmt.Errorf("tenancy.role: %w: %w", providers.ErrInvalidConfig, err)
		}
		role = r
	}
	switch a := &out.Auth; {
	case a.Kubernetes != nil:
		if a.Kubernetes.ServiceAccountRef != nil {
			sa.Audiences = a.Kubernetes.ServiceAccountRef.Audiences
		}
		a.Kubernetes.ServiceAccountRef, a.Kubernetes.SecretRef = &sa, nil
		if role != "" {
			a.Kubernetes.Role = role
		}
	case a.Jwt != nil && a.Jwt.KubernetesServiceAccountToken != nil:
		sa.Audiences = a.Jwt.KubernetesServiceAccountToken.ServiceAccountRef.Audiences
		a.Jwt.KubernetesServiceAccountToken.ServiceAccountRef, a.Jwt.SecretRef = sa, nil
		if role != "" {
			a.Jwt.Role = role
		}
	default:
		return nil, fmt.Errorf("tenancy logs each namespace in with its own ServiceAccount: use auth.kubernetes, or auth.jwt with kubernetesServiceAccountToken: %w", providers.ErrInvalidConfig)
	}
	if t.Namespace != nil {
		n, err := tenancy.Expand(*t.Namespace, ns)
		if err != nil {
			return nil, fmt.Errorf("tenancy.namespace: %w: %w", providers.ErrInvalidConfig, err)
		}
		out.Namespace = &n
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
