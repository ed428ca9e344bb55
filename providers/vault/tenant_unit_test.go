package vault

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

func TestTenancy_EachNamespaceGetsItsOwnIdentityAndPart(t *testing.T) {
	role, vns, mount := "ns-{namespace}", "tenants/{label:team}", "kv-{label:team}"
	kube := secrets{"labels/team-a/team": "payments", "labels/team-b/team": "search"}
	cases := []struct {
		name     string
		tenancy  *v1alpha1.StoreTenancy
		ns       string
		wantErr  error
		wantRole string
		wantSA   string
		wantNS   string
		wantPath string
		reach    string
	}{
		{name: "the role, mount, namespace and prefix are filled in for the namespace",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: &role, Namespace: &vns},
				Mount: &mount, PathPrefix: "apps/{namespace}/"},
			ns: "team-a", wantRole: "ns-team-a", wantSA: "team-a/baosync", wantNS: "tenants/payments", wantPath: "kv-payments", reach: "apps/team-a"},
		{name: "another namespace gets its own",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: &role, Namespace: &vns},
				Mount: &mount, PathPrefix: "apps/{namespace}/"},
			ns: "team-b", wantRole: "ns-team-b", wantSA: "team-b/baosync", wantNS: "tenants/search", wantPath: "kv-search", reach: "apps/team-b"},
		{name: "without a role the auth method's role stays (one role, templated policies)",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "reader"}, PathPrefix: "{namespace}"},
			ns:      "team-a", wantRole: "unused", wantSA: "team-a/reader", wantPath: "secret", reach: "team-a"},
		{name: "a namespace without a label the templates name is refused",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, Mount: &mount, PathPrefix: "apps/{namespace}/"},
			ns:      "team-c", wantErr: providers.ErrInvalidConfig},
		{name: "a prefix without the namespace as a whole segment is refused",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "apps/ns-{namespace}/"},
			ns:      "team-a", wantErr: providers.ErrInvalidConfig},
		{name: "a role chosen by a label alone is refused: a tenant who labels its namespace would choose it",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: ptr("team-{label:team}")}, PathPrefix: "apps/{namespace}/"},
			ns:      "team-a", wantErr: providers.ErrInvalidConfig},
		{name: "a KV v2 prefix that starts with data/ is refused: its keys would read as the API form",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "data/{namespace}/"},
			ns:      "team-a", wantErr: providers.ErrInvalidConfig},
		{name: "a template with a function is refused",
			tenancy: &v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "apps/{namespace}/{upper namespace}"},
			ns:      "team-a", wantErr: providers.ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vw, err := viewOf(context.Background(), sharedStore(c.tenancy), kube, c.ns)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("viewOf = %v; want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k := vw.spec.Auth.Kubernetes
			if got := *k.ServiceAccountRef.Namespace + "/" + k.ServiceAccountRef.Name; got != c.wantSA || k.Role != c.wantRole {
				t.Errorf("logs in as %s with role %s; want %s with %s", got, k.Role, c.wantSA, c.wantRole)
			}
			if deref(vw.spec.Namespace) != c.wantNS || deref(vw.spec.Path) != c.wantPath || vw.reach != c.reach || vw.tenant != c.ns {
				t.Errorf("view namespace %q mount %q reach %q tenant %q; want %q %q %q %q",
					deref(vw.spec.Namespace), deref(vw.spec.Path), vw.reach, vw.tenant, c.wantNS, c.wantPath, c.reach, c.ns)
			}
		})
	}
}

func TestReferent_AServiceAccountWithoutANamespaceIsTheUsersOwn(t *testing.T) {
	aud := []string{"vault"}
	cases := []struct {
		name string
		auth v1alpha1.VaultAuth
		per  bool
	}{
		{name: "kubernetes auth with a ServiceAccount and no namespace", per: true,
			auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r", ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "reader", Audiences: aud}}}},
		{name: "jwt auth with a ServiceAccount token and no namespace", per: true,
			auth: v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{KubernetesServiceAccountToken: &v1alpha1.VaultKubernetesServiceAccountTokenAuth{
				ServiceAccountRef: v1alpha1.ServiceAccountSelector{Name: "reader"}}}}},
		{name: "a ServiceAccount with its namespace is the admin's", per: false,
			auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r", ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "reader", Namespace: ptr("ops")}}}},
		{name: "jwt from a Secret wins over the ServiceAccount, as in ESO", per: false,
			auth: v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{SecretRef: &v1alpha1.SecretKeySelector{Name: "j", Namespace: ptr("ops")},
				KubernetesServiceAccountToken: &v1alpha1.VaultKubernetesServiceAccountTokenAuth{ServiceAccountRef: v1alpha1.ServiceAccountSelector{Name: "reader"}}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := sharedStore(nil)
			store.Spec.Provider.Vault.Auth = c.auth
			if got := PerNamespace(store); got != c.per {
				t.Fatalf("PerNamespace = %v; want %v", got, c.per)
			}
			vw, err := viewOf(context.Background(), store, secrets{}, "team-a")
			if err != nil {
				t.Fatal(err)
			}
			if !c.per {
				return
			}
			var sa v1alpha1.ServiceAccountSelector
			if k := vw.spec.Auth.Kubernetes; k != nil {
				sa = *k.ServiceAccountRef
			} else {
				sa = vw.spec.Auth.Jwt.KubernetesServiceAccountToken.ServiceAccountRef
			}
			if deref(sa.Namespace) != "team-a" || sa.Name != "reader" || vw.reach != "" {
				t.Fatalf("view logs in as %s/%s (reach %q); want team-a/reader and the whole mount", deref(sa.Namespace), sa.Name, vw.reach)
			}
			if store.Spec.Provider.Vault.Auth.Kubernetes != nil && store.Spec.Provider.Vault.Auth.Kubernetes.ServiceAccountRef.Namespace != nil {
				t.Fatal("the view changed the store's own spec")
			}
		})
	}
	if _, err := viewOf(context.Background(), sharedStore(&v1alpha1.StoreTenancy{PathPrefix: "{namespace}"}), secrets{}, ""); !errors.Is(err, providers.ErrInvalidConfig) {
		t.Fatalf("a shared store used without a namespace: %v; want ErrInvalidConfig", err)
	}
}

func TestReferent_ASecretWithoutANamespaceStaysRefusedAndPointsToTenancy(t *testing.T) {
	store := sharedStore(nil)
	store.Spec.Provider.Vault.Auth = v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}
	_, err := New().NewClient(context.Background(), store, secrets{"team-a/tok/token": "t"}, "team-a")
	if !errors.Is(err, providers.ErrInvalidConfig) || !strings.Contains(err.Error(), "spec.tenancy") {
		t.Fatalf("NewClient = %v; want ErrInvalidConfig pointing to spec.tenancy", err)
	}
}

func TestTenancy_IdleViewsAreDroppedAndNameTheirStoreForTokenEnds(t *testing.T) {
	now := time.Unix(1000, 0)
	p := New(WithClock(func() time.Time { return now }))
	store := sharedStore(&v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "baosync"}, PathPrefix: "apps/{namespace}/"})
	for _, ns := range []string{"team-a", "team-b"} {
		c, err := p.NewClient(context.Background(), store, secrets{}, ns)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.(*handle).storeName(); got != "ClusterSecretStore//shared" {
			t.Fatalf("a view names its store %q for token ends; want the store's own name", got)
		}
	}
	now = now.Add(viewIdle / 2)
	if _, err := p.NewClient(context.Background(), store, secrets{}, "team-a"); err != nil { // team-a stays in use
		t.Fatal(err)
	}
	now = now.Add(viewIdle/2 + time.Second)
	p.sweep()
	p.mu.Lock()
	_, a := p.byStore["ClusterSecretStore//shared@team-a"]
	_, b := p.byStore["ClusterSecretStore//shared@team-b"]
	p.mu.Unlock()
	if !a || b {
		t.Fatalf("after a sweep team-a's view kept %v (want true), team-b's idle view kept %v (want false)", a, b)
	}
	p.Release(v1alpha1.SecretStoreKindCluster, "", "shared")
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.byStore) != 0 || len(p.shared) != 0 || len(p.tenants) != 0 {
		t.Fatalf("a released store left %d clients, %d shared and %d books", len(p.byStore), len(p.shared), len(p.tenants))
	}
}
