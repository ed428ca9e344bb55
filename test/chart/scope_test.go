package chart

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestChart_ScopedInstallSyncsWithItsRoleAlone installs the chart with
// scopeNamespace for real and runs the operator as the chart's ServiceAccount,
// with only the RBAC the chart installed: a Role in the served namespace with
// the generated namespaced rules, and a ClusterRole with the two review APIs.
// A SecretStore with a token (reviewed with TokenReview) and one with
// Kubernetes auth (a TokenRequest) sync there, a PushSecret pushes; the
// ServiceAccount can read nothing elsewhere.
func TestChart_ScopedInstallSyncsWithItsRoleAlone(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const release, ns, apps = "scoped", "baosync-scoped", "scoped-apps"
	createNamespace(t, apps)
	mustHelm(t, "install", release, chartDir(), "--namespace", ns, "--create-namespace", "--wait=false",
		"--set", "scopeNamespace="+apps, "--set", "crds.install=false")
	t.Cleanup(func() { _, _ = helm(t, "uninstall", release, "--namespace", ns) })
	manifest := mustHelm(t, "get", "manifest", release, "--namespace", ns)
	d := deploymentOf(t, manifest)
	g.Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--namespace=" + apps))

	sa := "system:serviceaccount:" + ns + ":" + d.Spec.Template.Spec.ServiceAccountName
	for _, check := range []struct {
		verb, resource, namespace, want string
	}{
		{"list", "secrets", apps, "yes"},
		{"watch", "externalsecrets.baosync.io", apps, "yes"},
		{"create", "serviceaccounts --subresource=token", apps, "yes"},
		{"create", "tokenreviews.authentication.k8s.io", "", "yes"},
		{"list", "secrets", "default", "no"},
		{"list", "secrets", "", "no"}, // cluster-wide
		{"list", "namespaces", "", "no"},
		{"get", "clustersecretstores.baosync.io", "", "no"},
		{"list", "externalsecrets.baosync.io", "default", "no"},
	} {
		args := append([]string{"auth", "can-i", check.verb}, append(strings.Fields(check.resource), "--as", sa)...)
		if check.namespace != "" {
			args = append(args, "--namespace", check.namespace)
		}
		out, _ := kubectl(t, "", args...) // exit status 1 means "no"; warnings come first
		words := strings.Fields(out)
		g.Expect(words).NotTo(BeEmpty(), "kubectl %s", strings.Join(args, " "))
		g.Expect(words[len(words)-1]).To(Equal(check.want), "kubectl %s\n%s", strings.Join(args, " "), out)
	}

	op := startAsPod(t, "chart-scoped", d)
	g.Expect(env.TokenStore(ctx, apps, "vault")).To(Succeed())
	g.Expect(env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: apps}})).To(Succeed())
	g.Expect(env.KubernetesRole(ctx, "scoped-chart", apps, "reader")).To(Succeed())
	path := "secret"
	g.Expect(env.Client.Create(ctx, &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "k8s", Namespace: apps},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: env.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "scoped-chart",
				ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "reader", Audiences: []string{"vault"}}}}}}}})).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/chart/scoped", map[string]any{"v": "scoped-value"})).To(Succeed())
	for _, store := range []string{"vault", "k8s"} {
		g.Expect(env.Client.Create(ctx, syncedExternalSecret(apps, "by-"+store, store, "chart/scoped"))).To(Succeed())
	}
	for _, store := range []string{"vault", "k8s"} {
		g.Eventually(func() string { return secretValue(ctx, apps, "by-"+store) }, time.Minute, 200*time.Millisecond).
			Should(Equal("scoped-value"), "store %s; operator log: %s", store, op.LogPath)
	}
	// A PushSecret writes through the namespaced store with the Role alone.
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: apps},
		StringData: map[string]string{"pw": "pushed-value"}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: apps},
		Spec: v1alpha1.PushSecretSpec{SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault"}},
			Selector: v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
			Data: []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "pw",
				RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: "chart/scoped-push", Property: "pw"}}}}}})).To(Succeed())
	g.Eventually(func() any {
		s, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/chart/scoped-push")
		if err != nil || s == nil {
			return nil
		}
		data, _ := s.Data["data"].(map[string]any)
		return data["pw"]
	}, time.Minute, 200*time.Millisecond).Should(Equal("pushed-value"), "operator log: %s", op.LogPath)
	// The operator's log shows no request the RBAC refused.
	g.Consistently(func() string { return readFile(op.LogPath) }, 2*time.Second, 500*time.Millisecond).
		ShouldNot(ContainSubstring("forbidden"))
}

// TestChart_ScopedRulesFollowTheAPIServersDiscovery keeps the scoped install's
// split of the generated rules true: the Role gets every rule on a namespaced
// resource, verbatim; the ClusterRole only the review APIs; and every other
// rule is on a cluster-scoped resource that only a cluster-wide operator reads.
func TestChart_ScopedRulesFollowTheAPIServersDiscovery(t *testing.T) {
	g := NewWithT(t)
	out, err := kubectl(t, "", "api-resources", "--namespaced=false", "-o", "name")
	g.Expect(err).NotTo(HaveOccurred(), out)
	clusterScoped := map[string]bool{}
	for _, line := range strings.Fields(out) {
		name, group, _ := strings.Cut(line, ".")
		clusterScoped[group+"/"+name] = true
	}
	generated := &rbacv1.ClusterRole{}
	b := readFile(chartDir() + "/files/role.yaml")
	g.Expect(yaml.Unmarshal([]byte(b), generated)).To(Succeed())
	var namespaced, reviews, clusterOnly []rbacv1.PolicyRule
	for _, r := range generated.Rules {
		for _, res := range r.Resources {
			one := rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: []string{res}, Verbs: r.Verbs}
			base, _, _ := strings.Cut(res, "/")
			switch {
			case !clusterScoped[r.APIGroups[0]+"/"+base]:
				namespaced = append(namespaced, one)
			case base == "tokenreviews" || base == "subjectaccessreviews":
				reviews = append(reviews, one)
			default:
				clusterOnly = append(clusterOnly, one)
			}
		}
	}
	scoped := string(helmTemplate(t, "scopeNamespace=apps"))
	role := &rbacv1.Role{}
	g.Expect(rendered(scoped, "Role", "baosync", role)).To(BeTrue())
	cluster := &rbacv1.ClusterRole{}
	g.Expect(rendered(scoped, "ClusterRole", "baosync", cluster)).To(BeTrue())
	g.Expect(role.Namespace).To(Equal("apps"))
	g.Expect(split(role.Rules)).To(ConsistOf(namespaced))
	g.Expect(split(cluster.Rules)).To(ConsistOf(reviews))
	for _, r := range clusterOnly {
		g.Expect([]string{"namespaces", "clustersecretstores", "clustersecretstores/status", "clusterexternalsecrets", "clusterexternalsecrets/status", "clusterpushsecrets", "clusterpushsecrets/status", "clustergenerators"}).
			To(ContainElement(r.Resources[0]), "a new cluster-scoped permission: decide in charts/baosync/templates/_helpers.tpl (baosync.rules) whether a scoped operator needs it")
	}
	// Cluster-wide, the ClusterRole is the generated role, unsplit.
	all := &rbacv1.ClusterRole{}
	g.Expect(rendered(string(helmTemplate(t)), "ClusterRole", "baosync", all)).To(BeTrue())
	g.Expect(all.Rules).To(Equal(generated.Rules))
	g.Expect(rendered(string(helmTemplate(t)), "Role", "baosync", &rbacv1.Role{})).To(BeFalse())
}

// rendered finds the object of kind and name in rendered chart output and
// decodes it into obj.
func rendered(manifest, kind, name string, obj any) bool {
	for _, doc := range strings.Split(manifest, "\n---") {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &head) == nil && head.Kind == kind && head.Metadata.Name == name {
			return yaml.Unmarshal([]byte(doc), obj) == nil
		}
	}
	return false
}

// split returns one rule per resource, for comparing rule sets.
func split(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, r := range rules {
		for _, res := range r.Resources {
			out = append(out, rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: []string{res}, Verbs: slices.Clone(r.Verbs)})
		}
	}
	return out
}

// readFile returns a file's text, or "" when it cannot be read.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
