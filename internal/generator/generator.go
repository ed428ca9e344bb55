// Package generator turns a generatorRef into values: it looks the generator
// up under the tenant rules (a namespaced generator only in the referencing
// object's namespace, a ClusterGenerator only on a cluster-wide operator) and
// runs the generators that need no server (Password, UUID). A
// VaultDynamicSecret is resolved here too, but issued by the provider.
package generator

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/internal/storeref"
)

// retryMissing is how long an object waits for a generator that does not exist.
const retryMissing = 30 * time.Second

// Lease is the lease behind generated values, as the server granted it. Values
// of generators without a lease (Password, UUID) have none.
type Lease struct {
	// ID is the server's lease ID.
	ID string `json:"id"`
	// Duration is the TTL last granted.
	Duration time.Duration `json:"duration"`
	// Renewable says whether the server allows renewal.
	Renewable bool `json:"renewable"`
	// IssueTime is when the lease was issued.
	IssueTime time.Time `json:"issueTime"`
	// Expires is when the current grant ends (a certificate's NotAfter).
	Expires time.Time `json:"expires,omitzero"`
	// Increment is the TTL asked for on renewal: the first grant's.
	Increment time.Duration `json:"increment,omitempty"`
	// RenewAt is when the lease is due for renewal; zero for none.
	RenewAt time.Time `json:"renewAt,omitzero"`
	// Path is the path that issued the lease; renewals and revocations name
	// it so that only its own leases are touched.
	Path string `json:"path,omitempty"`
	// Ref names the generator that issued the lease, so that it can be
	// revoked after the ExternalSecret stopped referencing it.
	Ref v1alpha1.GeneratorRef `json:"ref,omitzero"`
	// Token identifies the login token that owns the lease (providers.Lease
	// Token): the server revokes the lease when that token ends.
	Token string `json:"token,omitempty"`
}

// Generator produces a fresh set of values each time it is called. The
// generators that need no server (Password, UUID) implement it; dynamic
// secrets, which carry leases, are issued by the lease ledger.
type Generator interface {
	// Generate returns new values.
	Generate(ctx context.Context) (map[string][]byte, error)
}

// Resolved is a generator reference looked up: its kind, where it lives and
// its spec, plus a hash of the spec that says when kept values are outdated.
type Resolved struct {
	// Kind of the generator (Password, UUID or VaultDynamicSecret), also for a
	// ClusterGenerator.
	Kind v1alpha1.GeneratorKind
	// Name of the generator object.
	Name string
	// Namespace of the generator object; empty for a ClusterGenerator.
	Namespace string
	// Spec is the generator's spec; exactly one field is set.
	Spec v1alpha1.GeneratorSpec
	// Tenancy is a ClusterGenerator's tenancy: log in as each namespace.
	Tenancy *v1alpha1.TenantIdentity
	// Hash identifies the reference and the spec.
	Hash string
}

// Cluster reports whether the generator is a ClusterGenerator.
func (r *Resolved) Cluster() bool { return r.Namespace == "" }

// Resolve looks up the generator ref names for an object in namespace, or
// fails with an outcome error (GeneratorNotFound or StoreNotAllowed). It reads
// through live, uncached: the operator watches generators by metadata only
// (to wake their users), and reads a spec only when values are due.
func Resolve(ctx context.Context, live client.Reader, sc scope.Served, namespace string, ref v1alpha1.GeneratorRef) (*Resolved, error) {
	key := client.ObjectKey{Namespace: namespace, Name: ref.Name}
	res := &Resolved{Kind: v1alpha1.GeneratorKind(ref.Kind), Name: ref.Name, Namespace: namespace}
	switch res.Kind {
	case v1alpha1.GeneratorKindPassword:
		o := &v1alpha1.Password{}
		if err := get(ctx, live, key, o, ref); err != nil {
			return nil, err
		}
		res.Spec.PasswordSpec = &o.Spec
	case v1alpha1.GeneratorKindUUID:
		o := &v1alpha1.UUID{}
		if err := get(ctx, live, key, o, ref); err != nil {
			return nil, err
		}
		res.Spec.UUIDSpec = &o.Spec
	case v1alpha1.GeneratorKindVaultDynamicSecret:
		o := &v1alpha1.VaultDynamicSecret{}
		if err := get(ctx, live, key, o, ref); err != nil {
			return nil, err
		}
		res.Spec.VaultDynamicSecretSpec = &o.Spec
	case v1alpha1.GeneratorKindCluster:
		if !sc.ClusterWide() {
			return nil, outcome.Terminalf(v1alpha1.ReasonStoreNotAllowed,
				"this operator serves namespace %q only and no ClusterGenerator; use a namespaced generator", sc.Namespace)
		}
		cg := &v1alpha1.ClusterGenerator{}
		if err := get(ctx, live, client.ObjectKey{Name: ref.Name}, cg, ref); err != nil {
			return nil, err
		}
		if err := storeref.Allows(ctx, live, cg.Spec.Conditions, namespace); err != nil {
			return nil, fmt.Errorf("ClusterGenerator %q %w", ref.Name, err)
		}
		res.Kind, res.Namespace, res.Spec, res.Tenancy = cg.Spec.Kind, "", cg.Spec.Generator, cg.Spec.Tenancy
	default:
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec,
			"generatorRef kind %q is not served; use Password, UUID, VaultDynamicSecret or ClusterGenerator", ref.Kind)
	}
	if err := servedClass(sc, res); err != nil {
		return nil, err
	}
	res.Hash = HashOf(res)
	return res, nil
}

// servedClass refuses a VaultDynamicSecret (or a ClusterGenerator holding
// one) whose spec.controller names another class than this operator's: like
// a store's, it is served only by the operator of its class, which logs in
// with its credentials.
func servedClass(sc scope.Served, res *Resolved) error {
	vds := res.Spec.VaultDynamicSecretSpec
	if vds == nil || vds.Controller == sc.Class {
		return nil
	}
	return outcome.Terminalf(v1alpha1.ReasonStoreNotAllowed,
		"%s %q names controller class %q and this operator serves class %q; reference a generator of this operator's class",
		res.Kind, res.Name, vds.Controller, sc.Class)
}

// get reads one generator object and maps its errors to outcomes.
func get(ctx context.Context, live client.Reader, key client.ObjectKey, obj client.Object, ref v1alpha1.GeneratorRef) error {
	err := live.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		where := "the cluster"
		if key.Namespace != "" {
			where = fmt.Sprintf("namespace %q (a generatorRef never reaches into another namespace)", key.Namespace)
		}
		return outcome.Waitingf(v1alpha1.ReasonGeneratorNotFound, retryMissing,
			"%s %q not found in %s; create it or fix the generatorRef", ref.Kind, ref.Name, where)
	}
	if err != nil {
		return outcome.FromKube(fmt.Sprintf("get %s %q", ref.Kind, ref.Name), err)
	}
	return nil
}

// HashOf identifies a resolved generator: its kind, its location and its spec.
// Values kept under another hash were made by a different generator.
func HashOf(r *Resolved) string {
	b, err := json.Marshal(struct {
		Kind      v1alpha1.GeneratorKind
		Namespace string
		Name      string
		Spec      v1alpha1.GeneratorSpec
		Tenancy   *v1alpha1.TenantIdentity `json:",omitempty"` // omitted: hashes of generators without it are unchanged
	}{r.Kind, r.Namespace, r.Name, withDefaults(r.Spec), r.Tenancy})
	if err != nil { // a spec of plain fields always marshals
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// withDefaults fills the empty fields of spec with the values the CRDs once
// defaulted on admission, so that a generator stored with them and the same
// generator written without them (as the CRDs now leave them, for GitOps
// tools) hash alike and keep their values, leases and tokens.
func withDefaults(spec v1alpha1.GeneratorSpec) v1alpha1.GeneratorSpec {
	spec = *spec.DeepCopy()
	if p := spec.PasswordSpec; p != nil {
		p.Length = cmp.Or(p.Length, 24)
		if p.Encoding == nil {
			raw := "raw"
			p.Encoding = &raw
		}
	}
	if d := spec.VaultDynamicSecretSpec; d != nil {
		d.Method = cmp.Or(d.Method, "GET")
		d.ResultType = cmp.Or(d.ResultType, v1alpha1.VaultDynamicSecretResultData)
		d.RenewPercent, d.RotatePercent = cmp.Or(d.RenewPercent, 67), cmp.Or(d.RotatePercent, 67)
		if d.RevokeOnDelete == nil {
			revoke := true
			d.RevokeOnDelete = &revoke
		}
		if d.RotationGracePeriod == nil {
			d.RotationGracePeriod = &metav1.Duration{Duration: 5 * time.Minute}
		}
		if v := d.Provider; v != nil {
			v.Version = cmp.Or(v.Version, v1alpha1.VaultKVStoreV2)
			authPathDefaults(&v.Auth)
		}
	}
	return spec
}

// authPathDefaults fills the empty mount paths of auth with their methods'.
func authPathDefaults(a *v1alpha1.VaultAuth) {
	if a.AppRole != nil {
		a.AppRole.Path = cmp.Or(a.AppRole.Path, "approle")
	}
	if a.Kubernetes != nil {
		a.Kubernetes.Path = cmp.Or(a.Kubernetes.Path, "kubernetes")
	}
	if a.UserPass != nil {
		a.UserPass.Path = cmp.Or(a.UserPass.Path, "userpass")
	}
	if a.Ldap != nil {
		a.Ldap.Path = cmp.Or(a.Ldap.Path, "ldap")
	}
	if a.Jwt != nil {
		a.Jwt.Path = cmp.Or(a.Jwt.Path, "jwt")
	}
	if a.Cert != nil {
		a.Cert.Path = cmp.Or(a.Cert.Path, "cert")
	}
}

// Static returns the generator for a kind that needs no server (Password,
// UUID); ok is false for a VaultDynamicSecret, which the provider issues.
func Static(r *Resolved) (g Generator, ok bool, err error) {
	switch {
	case r.Kind == v1alpha1.GeneratorKindPassword && r.Spec.PasswordSpec != nil:
		return Password{Spec: *r.Spec.PasswordSpec}, true, nil
	case r.Kind == v1alpha1.GeneratorKindUUID && r.Spec.UUIDSpec != nil:
		return UUID{}, true, nil
	case r.Kind == v1alpha1.GeneratorKindVaultDynamicSecret && r.Spec.VaultDynamicSecretSpec != nil:
		return nil, false, nil
	}
	return nil, false, outcome.Terminalf(v1alpha1.ReasonInvalidSpec,
		"generator %q of kind %s holds no %s spec; fix its spec.generator", r.Name, r.Kind, r.Kind)
}
