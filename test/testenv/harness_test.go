package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var env *Env

func TestMain(m *testing.M) { os.Exit(MainWithEnv(m, &env)) }

func TestHarness_VaultAndAPIServerRoundTrip(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err := env.VaultClient.Logical().WriteWithContext(ctx, "secret/data/harness", map[string]any{"data": map[string]any{"answer": "42"}})
	g.Expect(err).NotTo(HaveOccurred())
	got, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/harness")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Data["data"]).To(HaveKeyWithValue("answer", "42"))

	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "harness", Namespace: "default"}, Data: map[string][]byte{"k": []byte("v")}}
	g.Expect(env.Client.Create(ctx, s)).To(Succeed())
	back := &corev1.Secret{}
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(s), back)).To(Succeed())
	g.Expect(back.Data).To(HaveKeyWithValue("k", []byte("v")))
}

func TestHarness_KubectlWorksWithTheWrittenKubeconfig(t *testing.T) {
	g := NewWithT(t)
	out, err := exec.Command(filepath.Join(BinDir(), "kubectl"), "--kubeconfig", env.Kubeconfig, "get", "ns", "-o", "name").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(strings.Fields(string(out))).To(ContainElement("namespace/default"))
}

func TestHarness_CRDsAreInstalled(t *testing.T) {
	g := NewWithT(t)
	out, err := exec.Command(filepath.Join(BinDir(), "kubectl"), "--kubeconfig", env.Kubeconfig, "api-resources", "--api-group=baosync.io", "-o", "name").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(And(ContainSubstring("externalsecrets.baosync.io"), ContainSubstring("clustersecretstores.baosync.io")))
}

func TestManifests_DefaultKustomizationAppliesWithServerSideDryRun(t *testing.T) {
	g := NewWithT(t)
	kubectl := filepath.Join(BinDir(), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(Root(), "config", "default")).Output()
	g.Expect(err).NotTo(HaveOccurred())
	// The namespace must exist for a dry run of the objects inside it; a test
	// that runs the operator as a process may have made it already, and the
	// chart tests (in parallel) may own the CRDs as "helm": a dry run takes
	// their fields over without a conflict, and changes nothing.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: OperatorNamespace}}
	g.Expect(client.IgnoreAlreadyExists(env.Client.Create(context.Background(), ns))).To(Succeed())
	apply := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "apply", "--server-side", "--dry-run=server", "--force-conflicts", "-f", "-")
	apply.Stdin = strings.NewReader(string(out))
	res, err := apply.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(res))
	g.Expect(string(res)).To(And(ContainSubstring("deployment.apps/baosync-controller-manager serverside-applied"),
		ContainSubstring("clusterrole.rbac.authorization.k8s.io/baosync-manager-role serverside-applied"),
		ContainSubstring("pushsecrets.baosync.io serverside-applied"),
		ContainSubstring("clusterexternalsecrets.baosync.io serverside-applied")))
}
