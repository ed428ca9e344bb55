package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/tenancy"
	"github.com/baosync/baosync/providers"
	"github.com/baosync/baosync/providers/vault"
)

// callerToken is the name under which the caller's token is handed to the
// provider, as if it were a Secret; callerKube serves nothing else.
const callerToken = "baosync-render-token" //nolint:gosec // the name of a Secret, not a credential

// errCallerMode is what callerKube answers for everything but the token: with
// the caller's own access, render reads no credential from the cluster.
var errCallerMode = errors.New("with --vault-addr, render sends only your token, and only to that address; " +
	"it reads no credential from the cluster (use --store-auth for the store's own auth)")

// callerProvider makes every store an ExternalSecret reads, from the file or
// the cluster, spec.secretStoreRef's or a sourceRef's, read from the caller's
// address with the caller's token. Of the store it keeps only where the
// secrets are (path, KV version, namespace): its server, auth, TLS client
// certificate, CA provider and headers never take part, so that a store
// written by someone else cannot receive the caller's token or make render
// read a credential with the caller's kubeconfig.
type callerProvider struct {
	next  providers.Provider
	vault *vaultEnv
}

// NewClient returns a client of the caller's address for store's paths.
func (p *callerProvider) NewClient(ctx context.Context, store v1alpha1.GenericStore, _ providers.Kube, namespace string) (providers.SecretsClient, error) {
	if p.vault.tokenErr != nil {
		return nil, p.vault.tokenErr
	}
	own, err := p.vault.rewrite(store, namespace)
	if err != nil {
		return nil, err
	}
	return p.next.NewClient(ctx, own, callerKube{token: p.vault.token}, namespace)
}

// Release passes on to the wrapped provider.
func (p *callerProvider) Release(kind v1alpha1.SecretStoreKind, namespace, name string) {
	p.next.Release(kind, namespace, name)
}

// rewrite returns a copy of store that reads the same paths from the caller's
// address, with the caller's token, namespace (VAULT_NAMESPACE, else the
// store's) and CA (VAULT_CACERT, else the system's).
func (v *vaultEnv) rewrite(store v1alpha1.GenericStore, namespace string) (v1alpha1.GenericStore, error) {
	src := store.GetSpec().Provider.Vault
	if src == nil {
		return nil, errors.New("the store has no vault provider")
	}
	s := store.DeepCopyObject().(v1alpha1.GenericStore)
	if vault.PerNamespace(store) {
		// Each namespace's view reads its own mount and OpenBao namespace:
		// one client per namespace, as in the operator.
		s.SetName(s.GetName() + "@" + namespace)
	}
	ns := namespace
	p := &v1alpha1.VaultProvider{Server: v.addr, Path: src.Path, Version: src.Version, Namespace: src.Namespace,
		Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: callerToken, Key: "token", Namespace: &ns}}}
	if t := s.GetSpec().Tenancy; t != nil {
		// The caller's token reads as the caller; of a shared store's tenancy
		// only where the namespace's secrets are is kept.
		if err := tenancyPlace(p, t, namespace); err != nil {
			return nil, err
		}
		s.GetSpec().Tenancy = nil
	}
	if v.namespace != "" {
		vns := v.namespace
		p.Namespace = &vns
	}
	if v.caCert != "" {
		ca, err := os.ReadFile(v.caCert)
		if err != nil {
			return nil, fmt.Errorf("read VAULT_CACERT: %w", err)
		}
		p.CABundle = ca
	}
	s.GetSpec().Provider = v1alpha1.SecretStoreProvider{Vault: p}
	return s, nil
}

// tenancyPlace sets p's mount and OpenBao/Vault namespace from a shared
// store's tenancy templates, for namespace; render reads no namespace labels.
func tenancyPlace(p *v1alpha1.VaultProvider, t *v1alpha1.StoreTenancy, namespace string) error {
	ns := tenancy.Namespace{Name: namespace}
	if t.Mount != nil {
		m, err := tenancy.Expand(*t.Mount, ns)
		if err != nil {
			return fmt.Errorf("the store's tenancy.mount: %w", err)
		}
		p.Path = &m
	}
	if t.Namespace != nil {
		n, err := tenancy.Expand(*t.Namespace, ns)
		if err != nil {
			return fmt.Errorf("the store's tenancy.namespace: %w", err)
		}
		p.Namespace = &n
	}
	return nil
}

// callerKube serves the caller's token and refuses every other read.
type callerKube struct{ token string }

func (k callerKube) SecretValue(_ context.Context, _, name, key string) ([]byte, error) {
	if name == callerToken && key == "token" {
		return []byte(k.token), nil
	}
	return nil, errCallerMode
}

func (callerKube) ConfigMapValue(context.Context, string, string, string) ([]byte, error) {
	return nil, errCallerMode
}

func (callerKube) ServiceAccountToken(context.Context, string, string, []string, time.Duration) (string, error) {
	return "", errCallerMode
}

// AcceptedByAPIServer says no: the token is the caller's own, sent to the
// address the caller named.
func (callerKube) AcceptedByAPIServer(context.Context, string) (bool, error) { return false, nil }

// NamespaceLabels finds none: render reads no namespace of a cluster.
func (callerKube) NamespaceLabels(context.Context, string) (map[string]string, error) {
	return nil, nil
}
