package testenv

import (
	"context"
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
)

// TestChart_RendersAndAppliesWithServerSideDryRun renders charts/baosync with
// bin/helm, default and non-default values, and dry-run-applies the output to
// the real API server.
func TestChart_RendersAndAppliesWithServerSideDryRun(t *testing.T) {
	cases := []struct {
		name   string
		set    []string
		apply  bool
		has    []string
		hasNot []string
	}{{
		name:   "default values",
		apply:  true,
		has:    []string{"kind: CustomResourceDefinition", "runAsNonRoot: true", "readOnlyRootFilesystem: true", "--refresh-status=OnChange", "name: GOMEMLIMIT"},
		hasNot: []string{"--leader-elect", "kind: PodDisruptionBudget", "kind: ServiceMonitor"},
	}, {
		name:  "three replicas, a controller class, a namespace scope and JSON logs",
		set:   []string{"replicaCount=3", "controllerClass=team-a", "scopeNamespace=apps", "log.format=json", "image.tag=v9", "vault.rateLimit=50"},
		apply: true,
		has:   []string{"--leader-elect", "kind: PodDisruptionBudget", "--controller-class=team-a", "--namespace=apps", "baosync:v9", "--vault-rate-limit=50"},
	}, {
		name: "a ServiceMonitor when asked (rendered only: its CRD is the Prometheus Operator's)",
		set:  []string{"serviceMonitor.enabled=true"},
		has:  []string{"kind: ServiceMonitor"},
	}}
	ns := "baosync-chart"
	NewWithT(t).Expect(env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			args := []string{"template", "baosync", filepath.Join(Root(), "charts", "baosync"), "--namespace", ns, "--include-crds"}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			cmd := exec.Command(filepath.Join(BinDir(), "helm"), args...)
			cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
			out, err := cmd.Output()
			g.Expect(err).NotTo(HaveOccurred(), "helm template")
			for _, s := range tc.has {
				g.Expect(string(out)).To(ContainSubstring(s))
			}
			for _, s := range tc.hasNot {
				g.Expect(string(out)).NotTo(ContainSubstring(s))
			}
			if !tc.apply {
				return
			}
			apply := exec.Command(filepath.Join(BinDir(), "kubectl"), "--kubeconfig", env.Kubeconfig, "apply", "--server-side", "--dry-run=server", "-f", "-")
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
		b, err := os.ReadFile(filepath.Join(Root(), path))
		g.Expect(err).NotTo(HaveOccurred())
		r := &rbacv1.ClusterRole{}
		g.Expect(yaml.Unmarshal(b, r)).To(Succeed())
		return r.Rules
	}
	g.Expect(read("charts/baosync/files/role.yaml")).To(Equal(read("config/rbac/role.yaml")), "run make generate")
}
