package chart

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/test/testenv"
)

// TestChart_RendersAndAppliesWithServerSideDryRun renders charts/baosync with
// bin/helm, default and non-default values, and dry-run-applies the output to
// the real API server.
func TestChart_RendersAndAppliesWithServerSideDryRun(t *testing.T) {
	const ns = "baosync-chart"
	cases := []struct {
		name   string
		set    []string
		apply  bool
		has    []string
		hasNot []string
	}{{
		name:  "default values",
		apply: true,
		has: []string{"kind: CustomResourceDefinition", "runAsNonRoot: true", "readOnlyRootFilesystem: true", "--refresh-status=OnChange", "--gomemlimit-ratio=0.9", "memory: 1Gi",
			"--metrics-bind-address=:8443", "--metrics-secure=true", "name: baosync-metrics-reader", "nonResourceURLs",
			"helm.sh/resource-policy: keep", "revisionHistoryLimit: 10", "image: \"ghcr.io/baosync/baosync:v0.1.0\""},
		hasNot: []string{"--leader-elect", "kind: PodDisruptionBudget", "kind: ServiceMonitor",
			"- --cluster-store-operator-identity", "vault-token", "baosync.io/vault", "rollout-restart", "--metrics-cert-dir", "volumes:"},
	}, {
		name:  "three replicas, a controller class, a namespace scope and JSON logs",
		set:   []string{"replicaCount=3", "controllerClass=team-a", "scopeNamespace=apps", "log.format=json", "image.tag=v9", "vault.rateLimit=50"},
		apply: true,
		has:   []string{"--leader-elect", "kind: PodDisruptionBudget", "--controller-class=team-a", "--namespace=apps", "baosync:v9", "--vault-rate-limit=50"},
	}, {
		name:  "the operator's Vault identity, the restart permission cluster-wide and a metrics certificate",
		set:   []string{"operatorIdentity.enabled=true", "rolloutRestart.enabled=true", "metrics.certSecret=metrics-tls"},
		apply: true,
		has: []string{"--cluster-store-operator-identity", "audience: \"vault\"", "expirationSeconds: 600", "path: token",
			"mountPath: /var/run/secrets/baosync.io/vault", "kind: ClusterRole\nmetadata:\n  name: baosync-rollout-restart",
			"kind: ClusterRoleBinding\nmetadata:\n  name: baosync-rollout-restart", "--metrics-cert-dir=/etc/baosync/metrics-certs", "secretName: metrics-tls"},
	}, {
		name:   "the restart permission in the one namespace served",
		set:    []string{"rolloutRestart.enabled=true", "scopeNamespace=" + ns, "operatorIdentity.enabled=true", "operatorIdentity.audience=bao.example.com"},
		apply:  true,
		has:    []string{"kind: Role\nmetadata:\n  name: baosync-rollout-restart\n  namespace: " + ns, "kind: RoleBinding\nmetadata:\n  name: baosync-rollout-restart", `audience: "bao.example.com"`},
		hasNot: []string{"kind: ClusterRole\nmetadata:\n  name: baosync-rollout-restart", "kind: ClusterRoleBinding\nmetadata:\n  name: baosync-rollout-restart"},
	}, {
		name:  "ESO-compatible mode with an ESO controller class",
		set:   []string{"esoCompat.enabled=true", "esoCompat.controllerClass=baosync"},
		apply: true,
		has: []string{"- --eso-compat", "- --eso-controller-class=baosync", "kind: ClusterRole\nmetadata:\n  name: baosync-eso-compat",
			"kind: ClusterRoleBinding\nmetadata:\n  name: baosync-eso-compat", "external-secrets.io"},
	}, {
		name: "extra environment, volumes, mounts, topology spread, labels and history",
		set: []string{"extraEnv[0].name=HTTPS_PROXY", "extraEnv[0].value=http://proxy:3128",
			"extraVolumes[0].name=ca", "extraVolumes[0].configMap.name=vault-ca", "extraVolumeMounts[0].name=ca", "extraVolumeMounts[0].mountPath=/etc/vault-ca",
			"topologySpreadConstraints[0].maxSkew=1", "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
			"topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway", "revisionHistoryLimit=3", "podLabels.team=a", "podAnnotations.note=b"},
		apply: true,
		has: []string{"name: HTTPS_PROXY\n              value: http://proxy:3128", "mountPath: /etc/vault-ca", "name: vault-ca",
			"topologySpreadConstraints:\n        - labelSelector:\n            matchLabels:\n              app.kubernetes.io/instance: baosync",
			"topologyKey: topology.kubernetes.io/zone", "revisionHistoryLimit: 3", "team: a", "note: b"},
	}, {
		name:   "CRDs left to the user",
		set:    []string{"crds.install=false"},
		apply:  true,
		hasNot: []string{"kind: CustomResourceDefinition"},
	}, {
		name:   "CRDs that Helm may delete",
		set:    []string{"crds.keep=false", "crds.annotations.team=platform"},
		apply:  true,
		has:    []string{"kind: CustomResourceDefinition", "team: platform"},
		hasNot: []string{"helm.sh/resource-policy"},
	}, {
		name:  "plain HTTP metrics",
		set:   []string{"metrics.secure=false", "metrics.port=8080"},
		apply: true,
		has:   []string{"--metrics-secure=false", "--metrics-bind-address=:8080", "name: http\n"},
	}, {
		name: "a ServiceMonitor when asked (rendered only: its CRD is the Prometheus Operator's)",
		set:  []string{"serviceMonitor.enabled=true"},
		has:  []string{"kind: ServiceMonitor", "port: https", "scheme: https", "bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token", "insecureSkipVerify: true"},
	}, {
		name:   "a ServiceMonitor that verifies the metrics certificate",
		set:    []string{"serviceMonitor.enabled=true", "metrics.certSecret=metrics-tls"},
		has:    []string{"serverName: baosync-metrics." + ns + ".svc", "name: metrics-tls", "key: ca.crt"},
		hasNot: []string{"insecureSkipVerify"},
	}, {
		name:   "a ServiceMonitor of plain HTTP metrics",
		set:    []string{"serviceMonitor.enabled=true", "metrics.secure=false"},
		has:    []string{"port: http\n", "scheme: http\n"},
		hasNot: []string{"bearerTokenFile", "tlsConfig"},
	}}
	NewWithT(t).Expect(env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	createNamespace(t, "apps") // the Role of a scoped install lives there
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out := helmTemplate(t, tc.set...)
			for _, s := range tc.has {
				g.Expect(string(out)).To(ContainSubstring(s))
			}
			for _, s := range tc.hasNot {
				g.Expect(string(out)).NotTo(ContainSubstring(s))
			}
			if !tc.apply {
				return
			}
			apply := exec.Command(filepath.Join(testenv.BinDir(), "kubectl"), "--kubeconfig", env.Kubeconfig, "apply", "--server-side", "--dry-run=server", "-f", "-")
			apply.Stdin = strings.NewReader(string(out))
			res, err := apply.CombinedOutput()
			g.Expect(err).NotTo(HaveOccurred(), string(res))
		})
	}
}

// TestChart_ClusterRoleIsTheGeneratedRole keeps the chart's RBAC exactly the
// least-privilege role generated from the code.
func TestChart_ClusterRoleIsTheGeneratedRole(t *testing.T) {
	g := NewWithT(t)
	read := func(path string) []rbacv1.PolicyRule {
		b, err := os.ReadFile(filepath.Join(testenv.Root(), path))
		g.Expect(err).NotTo(HaveOccurred())
		r := &rbacv1.ClusterRole{}
		g.Expect(yaml.Unmarshal(b, r)).To(Succeed())
		return r.Rules
	}
	g.Expect(read("charts/baosync/files/role.yaml")).To(Equal(read("config/rbac/role.yaml")), "run make generate")
}

// helmTemplate renders charts/baosync with bin/helm into namespace
// baosync-chart, CRDs included, with --set values.
func helmTemplate(t *testing.T, set ...string) []byte {
	t.Helper()
	args := []string{"template", "baosync", filepath.Join(testenv.Root(), "charts", "baosync"), "--namespace", "baosync-chart", "--include-crds",
		"--kube-version", serverVersion(t)}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(filepath.Join(testenv.BinDir(), "helm"), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.Output()
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), "helm template")
	return out
}

// defaultHasNo fails when the generated default role names group.
func defaultHasNo(t *testing.T, group string) error {
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "config", "rbac", "role.yaml"))
	if err != nil {
		return err
	}
	if strings.Contains(string(b), group) {
		return fmt.Errorf("config/rbac/role.yaml grants on %s", group)
	}
	return nil
}

// TestChart_OptionalPermissionsMatchTheKustomizeComponents keeps the chart's
// opt-in restart permission equal to config/components/rollout-restart, and
// checks that config/default with both optional components builds and
// dry-run-applies with the volume, flag and binding they add.
func TestChart_OptionalPermissionsMatchTheKustomizeComponents(t *testing.T) {
	g := NewWithT(t)
	component := &rbacv1.ClusterRole{}
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "config", "components", "rollout-restart", "role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(yaml.Unmarshal(b, component)).To(Succeed())
	var chartRules []rbacv1.PolicyRule
	for _, doc := range strings.Split(string(helmTemplate(t, "rolloutRestart.enabled=true")), "\n---") {
		r := &rbacv1.ClusterRole{}
		if yaml.Unmarshal([]byte(doc), r) == nil && r.Kind == "ClusterRole" && r.Name == "baosync-rollout-restart" {
			chartRules = r.Rules
		}
	}
	g.Expect(chartRules).To(Equal(component.Rules), "charts/baosync/templates/rollout-restart.yaml and config/components/rollout-restart/role.yaml differ")
	g.Expect(component.Rules).To(ConsistOf(rbacv1.PolicyRule{APIGroups: []string{"apps"},
		Resources: []string{"deployments", "statefulsets", "daemonsets"}, Verbs: []string{"patch"}},
		rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"rollouts"}, Verbs: []string{"patch"}}))
	g.Expect(defaultHasNo(t, "external-secrets.io")).To(Succeed(), "ESO's objects are the opt-in component's, not the default role's")

	// config/default as documented, with its components uncommented (in a
	// namespace of its own: TestManifests_… creates baosync-system).
	config := filepath.Join(testenv.Root(), "config")
	b, err = os.ReadFile(filepath.Join(config, "default", "kustomization.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	k := map[string]any{}
	g.Expect(yaml.Unmarshal(b, &k)).To(Succeed())
	dir := t.TempDir()
	rel := func(path ...string) string { // kustomize refuses absolute paths
		r, err := filepath.Rel(dir, filepath.Join(append([]string{config}, path...)...))
		g.Expect(err).NotTo(HaveOccurred())
		return r
	}
	resources, _ := k["resources"].([]any)
	for i, r := range resources {
		resources[i] = rel("default", r.(string))
	}
	k["namespace"] = "baosync-components"
	k["components"] = []string{rel("components", "rollout-restart"), rel("components", "operator-identity"), rel("components", "eso-compat")}
	b, err = yaml.Marshal(k)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(dir, "kustomization.yaml"), b, 0o600)).To(Succeed())
	kubectl := filepath.Join(testenv.BinDir(), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(And(ContainSubstring("--cluster-store-operator-identity"), ContainSubstring("audience: vault"),
		ContainSubstring("mountPath: /var/run/secrets/baosync.io/vault"), ContainSubstring("name: baosync-rollout-restart"),
		ContainSubstring("--metrics-bind-address=:8443"), ContainSubstring("name: baosync-metrics-reader"),
		ContainSubstring("--eso-compat"), ContainSubstring("name: baosync-eso-compat-role")))
	g.Expect(env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "baosync-components"}})).To(Succeed())
	apply := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "apply", "--server-side", "--dry-run=server", "-f", "-")
	apply.Stdin = strings.NewReader(string(out))
	res, err := apply.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(res))
	g.Expect(string(res)).To(And(ContainSubstring("clusterrolebinding.rbac.authorization.k8s.io/baosync-rollout-restart serverside-applied"),
		ContainSubstring("deployment.apps/baosync-controller-manager serverside-applied")))
}
