package gettingstarted

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// authCase is one way to set up Kubernetes auth, and what a store using it
// says in its Ready condition.
type authCase struct {
	name string
	// config and role change the working auth/<mount>/config and role.
	config func(cfg map[string]any)
	role   func(role map[string]any)
	// audiences are those the store requests (the default when nil).
	audiences []string
	// serviceAccount is the one the store names ("reader" when empty).
	serviceAccount string
	// want is in the store's Ready message, and in docs/troubleshooting.md.
	want string
}

const authNamespace = "authcases"

// TestKubernetesAuthFailures_SayWhatTroubleshootingSays sets Kubernetes auth
// up wrongly in each way docs/troubleshooting.md describes, and checks that a
// store using it is not Ready with the message the page quotes.
func TestKubernetesAuthFailures_SayWhatTroubleshootingSays(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reviewer, nobody := authFixtures(ctx, t)
	page, err := os.ReadFile(filepath.Join(testenv.Root(), "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	otherCA, _, _, err := testenv.ClientCertificate("not-the-cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []authCase{
		{name: "working setup", want: ""},
		{name: "token audience differs from the role's", audiences: []string{"other"},
			want: "403: invalid audience (aud) claim: audience claim does not match any expected audience"},
		{name: "role binds another ServiceAccount", role: func(r map[string]any) { r["bound_service_account_names"] = "someone-else" },
			want: "403: service account name not authorized"},
		{name: "role binds another namespace", role: func(r map[string]any) { r["bound_service_account_namespaces"] = "elsewhere" },
			want: "403: namespace not authorized"},
		{name: "ServiceAccount missing", serviceAccount: "missing", want: `serviceaccounts "missing" not found`},
		// Vault hides why TokenReview failed: these four look alike.
		{name: "reviewer lacks system:auth-delegator", config: func(c map[string]any) { c["token_reviewer_jwt"] = nobody },
			want: "login at auth/k8s-case-5/login was refused (403: permission denied)"},
		{name: "client's own token as reviewer", config: func(c map[string]any) { delete(c, "token_reviewer_jwt") },
			want: "login at auth/k8s-case-6/login was refused (403: permission denied)"},
		{name: "wrong CA certificate", config: func(c map[string]any) { c["kubernetes_ca_cert"] = string(otherCA) },
			want: "login at auth/k8s-case-7/login was refused (403: permission denied)"},
		{name: "wrong API server address", config: func(c map[string]any) { c["kubernetes_host"] = "https://127.0.0.1:1" },
			want: "login at auth/k8s-case-8/login was refused (403: permission denied)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mount := fmt.Sprintf("k8s-case-%d", i)
			setUpMount(ctx, t, mount, reviewer, tc)
			msg := storeMessage(ctx, t, mount, tc, tc.want == "")
			t.Logf("Ready message: %s", msg)
			if tc.want == "" {
				return
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("store message %q lacks %q", msg, tc.want)
			}
			if quoted := afterMount(tc.want); !strings.Contains(string(page), quoted) {
				t.Errorf("docs/troubleshooting.md does not quote %q (case %q)", quoted, tc.name)
			}
		})
	}
}

// afterMount drops the test's own mount path from a message, leaving the
// part the page quotes.
func afterMount(msg string) string {
	if _, rest, ok := strings.Cut(msg, "/login "); ok {
		return rest
	}
	return msg
}

// authFixtures creates the namespace and ServiceAccount the stores log in as,
// a read policy, and returns a reviewer token with system:auth-delegator and
// one without.
func authFixtures(ctx context.Context, t *testing.T) (reviewer, nobody string) {
	t.Helper()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: authNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: authNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "case-reviewer", Namespace: authNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "case-nobody", Namespace: authNamespace}},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "authcases-reviewer"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:auth-delegator"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "case-reviewer", Namespace: authNamespace}},
		},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %T: %v", o, err)
		}
	}
	if _, err := env.Write(ctx, "sys/policies/acl/authcases-read", map[string]any{"policy": testenv.ReadPolicy}); err != nil {
		t.Fatal(err)
	}
	return saToken(ctx, t, "case-reviewer"), saToken(ctx, t, "case-nobody")
}

// saToken requests an hour's token for a ServiceAccount of authNamespace.
func saToken(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	exp := int64(3600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: authNamespace}}
	if err := env.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("token for %s: %v", name, err)
	}
	return tr.Status.Token
}

// setUpMount enables Kubernetes auth at mount with the working configuration
// changed as tc says, and a role "r" for authNamespace/reader.
func setUpMount(ctx context.Context, t *testing.T, mount, reviewer string, tc authCase) {
	t.Helper()
	if err := env.EnableOnce(ctx, "kubernetes", mount, nil); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"kubernetes_host": env.Config.Host, "kubernetes_ca_cert": string(env.Config.CAData),
		"token_reviewer_jwt": reviewer, "disable_local_ca_jwt": true}
	role := map[string]any{"bound_service_account_names": "reader", "bound_service_account_namespaces": authNamespace,
		"audience": "vault", "token_policies": "authcases-read", "token_ttl": "1h"}
	if tc.config != nil {
		tc.config(cfg)
	}
	if tc.role != nil {
		tc.role(role)
	}
	if _, err := env.Write(ctx, "auth/"+mount+"/config", cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Write(ctx, "auth/"+mount+"/role/r", role); err != nil {
		t.Fatal(err)
	}
}

// storeMessage creates a SecretStore logging in at mount and returns its
// Ready message once Ready is as wantReady says.
func storeMessage(ctx context.Context, t *testing.T, mount string, tc authCase, wantReady bool) string {
	t.Helper()
	sa := tc.serviceAccount
	if sa == "" {
		sa = "reader"
	}
	path := "secret"
	store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: mount, Namespace: authNamespace},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: env.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: mount, Role: "r",
				ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: sa, Audiences: tc.audiences}}}}}}}
	if err := env.Client.Create(ctx, store); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		got := &v1alpha1.SecretStore{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(store), got); err != nil {
			t.Fatal(err)
		}
		if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady); c != nil &&
			(c.Status == metav1.ConditionTrue) == wantReady {
			return c.Reason + ": " + c.Message
		}
		if time.Now().After(deadline) {
			t.Fatalf("store %s: Ready is not %v within 45s; conditions %+v (operator log %s)", mount, wantReady, got.Status.Conditions, operatorLog)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
