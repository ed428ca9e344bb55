package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/tenancy"
	"github.com/baosync/baosync/providers"
)

// A ClusterSecretStore serves each namespace that uses it as that namespace
// when it has a tenancy section, or when its Kubernetes or JWT auth names a
// ServiceAccount without a namespace (ESO's "referent authentication"). Such a
// store has no identity of its own: every namespace gets a client of its own
// (a view), built from the store's spec with the namespace's ServiceAccount,
// role, OpenBao/Vault namespace, mount and path prefix filled in. Views of one
// store share its rate budget and its breaker, never a token or a read.

// view is the store as one client sees it: the spec it logs in and reads
// with, and, for a view of a shared store, the namespace it serves and the
// part of the mount that namespace may reach.
type view struct {
	spec   *v1alpha1.VaultProvider
	tenant string // the namespace served as itself; "" for the store's own identity
	reach  string // path below the mount that every key must lie in; "" for the whole mount
	// ownNamespace: the OpenBao/Vault namespace is the tenant's own (tenancy.namespace).
	ownNamespace bool
}

// PerNamespace reports whether store serves each namespace as itself.
func PerNamespace(store v1alpha1.GenericStore) bool {
	return store.GetKind() == v1alpha1.SecretStoreKindCluster && (store.GetSpec().Tenancy != nil || referent(store.GetSpec().Provider.Vault))
}

// referent reports whether v logs in with a ServiceAccount it names without a
// namespace (the one that wins when several sources are set, as in ESO).
func referent(v *v1alpha1.VaultProvider) bool {
	if v == nil {
		return false
	}
	if k := v.Auth.Kubernetes; k != nil && k.ServiceAccountRef != nil {
		return empty(k.ServiceAccountRef.Namespace)
	}
	if j := v.Auth.Jwt; j != nil && j.SecretRef == nil && j.KubernetesServiceAccountToken != nil {
		return empty(j.KubernetesServiceAccountToken.ServiceAccountRef.Namespace)
	}
	return false
}

func empty(s *string) bool { return s == nil || *s == "" }

// viewOf returns how the client for namespace sees store: the store's own spec,
// or for a store that serves each namespace as itself, the namespace's view.
func viewOf(ctx context.Context, store v1alpha1.GenericStore, kube providers.Kube, namespace string) (view, error) {
	v := store.GetSpec().Provider.Vault
	if !PerNamespace(store) {
		return view{spec: v}, nil
	}
	if namespace == "" {
		return view{}, fmt.Errorf("store %s serves each namespace as itself and has no identity of its own; use it from a namespace: %w",
			store.GetName(), providers.ErrInvalidConfig)
	}
	if t := store.GetSpec().Tenancy; t != nil {
		return tenancyView(ctx, v, t, kube, namespace)
	}
	spec := v.DeepCopy()
	setServiceAccount(spec, "", namespace)
	return view{spec: spec, tenant: namespace}, nil
}

// tenancyView fills the tenancy section's templates in for namespace.
func tenancyView(ctx context.Context, v *v1alpha1.VaultProvider, t *v1alpha1.StoreTenancy, kube providers.Kube, namespace string) (view, error) {
	if !tenancy.Segment(t.PathPrefix) && !tenancy.Segment(deref(t.Namespace)) {
		return view{}, fmt.Errorf("tenancy.pathPrefix or tenancy.namespace must hold {namespace} as a whole path segment: %w", providers.ErrInvalidConfig)
	}
	ns, err := tenantNamespace(ctx, t, kube, namespace)
	if err != nil {
		return view{}, err
	}
	spec := v.DeepCopy()
	if err := ApplyTenantIdentity(spec, &t.TenantIdentity, ns, namespace); err != nil {
		return view{}, err
	}
	reach, err := expandPath(t.PathPrefix, ns, "tenancy.pathPrefix")
	if err != nil {
		return view{}, err
	}
	if err := fillPlace(spec, t, ns); err != nil {
		return view{}, err
	}
	if spec.Path == nil || strings.Trim(*spec.Path, "/") == "" {
		return view{}, fmt.Errorf("tenancy needs a KV mount: set tenancy.mount or provider.vault.path: %w", providers.ErrInvalidConfig)
	}
	if first, _, _ := strings.Cut(reach, "/"); first == "data" && spec.Version != v1alpha1.VaultKVStoreV1 {
		// A key below it would read as ESO's API form (secret/data/x is secret/x).
		return view{}, fmt.Errorf("tenancy.pathPrefix %q starts with data/, which a KV v2 key cannot: choose another first segment: %w", t.PathPrefix, providers.ErrInvalidConfig)
	}
	return view{spec: spec, tenant: namespace, reach: reach, ownNamespace: t.Namespace != nil}, nil
}

// tenantNamespace is what the templates may use of namespace: its name, and
// its labels when a template names one.
func tenantNamespace(ctx context.Context, t *v1alpha1.StoreTenancy, kube providers.Kube, namespace string) (tenancy.Namespace, error) {
	ns := tenancy.Namespace{Name: namespace}
	if tenancy.UsesLabels(t.PathPrefix, deref(t.Mount), deref(t.Role), deref(t.Namespace)) {
		labels, err := kube.NamespaceLabels(ctx, namespace)
		if err != nil {
			return ns, fmt.Errorf("read the labels of namespace %q for the store's tenancy section: %w: %w", namespace, providers.ErrUnavailable, err)
		}
		ns.Labels = labels
	}
	return ns, nil
}

// fillPlace sets spec's mount from the tenancy template, if set.
func fillPlace(spec *v1alpha1.VaultProvider, t *v1alpha1.StoreTenancy, ns tenancy.Namespace) error {
	if t.Mount == nil {
		return nil
	}
	mount, err := expandPath(*t.Mount, ns, "tenancy.mount")
	if err != nil {
		return err
	}
	spec.Path = &mount
	return nil
}

// ApplyTenantIdentity makes spec (a copy the caller owns) log in as
// namespace ns under t: with t's ServiceAccount in saNamespace (empty: in
// the namespace that uses the store, resolved by the provider, the referent
// form a ClusterGenerator's synthetic store needs), and t's role and
// OpenBao/Vault namespace templates filled in for ns. A shared store's views
// and a ClusterGenerator's tenancy share it.
func ApplyTenantIdentity(spec *v1alpha1.VaultProvider, t *v1alpha1.TenantIdentity, ns tenancy.Namespace, saNamespace string) error {
	if !setServiceAccount(spec, t.ServiceAccountName, saNamespace) {
		return fmt.Errorf("tenancy logs each namespace in with its own ServiceAccount: use auth.kubernetes, or auth.jwt with kubernetesServiceAccountToken: %w", providers.ErrInvalidConfig)
	}
	if t.Namespace != nil {
		vns, err := expandPath(*t.Namespace, ns, "tenancy.namespace")
		if err != nil {
			return err
		}
		spec.Namespace = &vns
	}
	if t.Role != nil {
		if !tenancy.RoleSafe(*t.Role) {
			return fmt.Errorf("tenancy.role %q names a label but not {namespace}: a tenant who can label its namespace would choose another's role: %w", *t.Role, providers.ErrInvalidConfig)
		}
		role, err := expand(*t.Role, ns, "tenancy.role")
		if err != nil {
			return err
		}
		setRole(spec, role)
	}
	return nil
}

// setServiceAccount points spec's Kubernetes or JWT login at ServiceAccount
// name (or the one it names, when name is empty) in namespace, dropping the
// other sources of a token. It reports false when spec logs in another way.
func setServiceAccount(spec *v1alpha1.VaultProvider, name, namespace string) bool {
	pick := func(sa *v1alpha1.ServiceAccountSelector) v1alpha1.ServiceAccountSelector {
		out := v1alpha1.ServiceAccountSelector{Name: name, Namespace: &namespace}
		if sa != nil {
			out.Audiences = sa.Audiences
			if name == "" {
				out.Name = sa.Name
			}
		}
		return out
	}
	switch a := &spec.Auth; {
	case a.Kubernetes != nil:
		sa := pick(a.Kubernetes.ServiceAccountRef)
		a.Kubernetes.ServiceAccountRef, a.Kubernetes.SecretRef = &sa, nil
	case a.Jwt != nil && a.Jwt.KubernetesServiceAccountToken != nil:
		a.Jwt.KubernetesServiceAccountToken.ServiceAccountRef = pick(&a.Jwt.KubernetesServiceAccountToken.ServiceAccountRef)
		a.Jwt.SecretRef = nil
	default:
		return false
	}
	return true
}

// setRole replaces the role of spec's Kubernetes or JWT login.
func setRole(spec *v1alpha1.VaultProvider, role string) {
	if k := spec.Auth.Kubernetes; k != nil {
		k.Role = role
	}
	if j := spec.Auth.Jwt; j != nil {
		j.Role = role
	}
}

// expand fills in a template, naming field in its error.
func expand(t string, ns tenancy.Namespace, field string) (string, error) {
	out, err := tenancy.Expand(t, ns)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %w", field, providers.ErrInvalidConfig, err)
	}
	return out, nil
}

// expandPath fills in a template that names a path, which must then be a
// clean path (checkPath): no empty, "." or ".." segment.
func expandPath(t string, ns tenancy.Namespace, field string) (string, error) {
	out, err := expand(t, ns, field)
	if err != nil {
		return "", err
	}
	out = strings.Trim(out, "/")
	if out == "" {
		return "", nil
	}
	if err := checkPath(out); err != nil {
		return "", fmt.Errorf("%s %q is for namespace %q the path %q, which %v: %w", field, t, ns.Name, out, err, providers.ErrInvalidConfig) //nolint:errorlint // the class is the sentinel, not the cause
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// errOutsideReach is a key, find path or push key outside the part of the
// mount a shared store gives a namespace. It is providers.ErrPermissionDenied:
// the server would refuse it too, and this refusal happens before any request.
type errOutsideReach struct {
	what, path, reach, tenant string
	why                       error // why the path cannot be placed at all; nil when it is placed outside
}

func (e *errOutsideReach) Error() string {
	where := "lies outside"
	if e.why != nil {
		where = fmt.Sprintf("cannot be shown to lie inside (%v)", e.why)
	}
	return fmt.Sprintf("%s %q %s %s/, the only part of the mount this store lets namespace %q reach; write it in full below that prefix: %s",
		e.what, e.path, where, e.reach, e.tenant, providers.ErrPermissionDenied)
}

// Is makes errors.Is hold for ErrPermissionDenied.
func (e *errOutsideReach) Is(target error) bool { return target == providers.ErrPermissionDenied }

// within checks that rel, a path below the mount, lies inside the client's
// reach: rel is the reach itself (allowed only as a find root) or below it,
// segment by segment.
func (c *storeClient) within(what, rel string, root bool) error {
	if c.reach == "" {
		return nil
	}
	if m, _ := storeMount(c.spec); m == "" {
		return c.unproven(what, rel, errors.New("the store names no mount")) // a view with a reach always has one
	}
	rel = strings.Trim(rel, "/")
	if strings.HasPrefix(rel, c.reach+"/") || (root && rel == c.reach) {
		return nil
	}
	c.observe("reach", "denied")
	return &errOutsideReach{what: what, path: rel, reach: c.reach, tenant: c.tenant}
}

// unproven turns the refusal of a path that cannot be placed (.., encoded
// separators, a reserved mount) into a refusal of reach on a client that has
// one: a tenant of a shared store sees one Reason for every path that is not
// provably its own.
func (c *storeClient) unproven(what, path string, err error) error {
	if c.reach == "" || err == nil {
		return err
	}
	c.observe("reach", "denied")
	return &errOutsideReach{what: what, path: path, reach: c.reach, tenant: c.tenant, why: err}
}

// fingerprint identifies what a view was derived to, so that a view whose
// namespace's labels changed is built anew.
func (v view) fingerprint() string {
	b, _ := json.Marshal(v.spec) // a plain struct: cannot fail
	return fingerprint([]byte(v.reach), b)
}
