package ledger

import (
	"context"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/tenancy"
	"github.com/baosync/baosync/providers"
	"github.com/baosync/baosync/providers/vault"
)

// tenantProvider is a ClusterGenerator's provider as namespace logs in with
// it under the generator's tenancy: the ServiceAccount named without a
// namespace (which the provider resolves in the namespace that uses the
// generator, the referent form), with the role and OpenBao/Vault namespace
// filled in for it (vault.ApplyTenantIdentity, as a shared store's views).
// The request path stays the admin's.
func (lg *Ledger) tenantProvider(ctx context.Context, v *v1alpha1.VaultProvider, t *v1alpha1.TenantIdentity, namespace string) (*v1alpha1.VaultProvider, error) {
	ns := tenancy.Namespace{Name: namespace}
	if t.Role != nil && tenancy.UsesLabels(*t.Role) || t.Namespace != nil && tenancy.UsesLabels(*t.Namespace) {
		labels, err := lg.kube().NamespaceLabels(ctx, namespace)
		if err != nil {
			return nil, fmt.Errorf("read the labels of namespace %q for the tenancy section: %w: %w", namespace, providers.ErrUnavailable, err)
		}
		ns.Labels = labels
	}
	out := v.DeepCopy()
	if err := vault.ApplyTenantIdentity(out, t, ns, ""); err != nil {
		return nil, err
	}
	return out, nil
}
