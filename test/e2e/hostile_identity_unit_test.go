package e2e

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/test/testenv"
)

func TestHostile_TheGeneratedRoleCannotPatchWorkloads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "config", "rbac", "role.yaml"))
	g := NewWithT(t)
	g.Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	g.Expect(yaml.Unmarshal(b, role)).To(Succeed())
	for _, r := range role.Rules {
		g.Expect(r.APIGroups).NotTo(ContainElement("apps"), "rolloutRestartTargets' permission must be opt-in")
	}
}
