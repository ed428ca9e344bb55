package chart

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// chartDir is the chart under test.
func chartDir() string { return filepath.Join(testenv.Root(), "charts", "baosync") }

// serverVersion is the test API server's version, for `helm template
// --kube-version` (without a cluster, a helm built from source assumes an old
// one and refuses the chart's kubeVersion).
func serverVersion(t *testing.T) string {
	t.Helper()
	v, err := discovery.NewDiscoveryClientForConfigOrDie(env.Config).ServerVersion()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return v.GitVersion
}

// helm runs bin/helm against the test API server as its administrator, with
// Helm's own directories in a temporary place, and returns its output.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(testenv.BinDir(), "helm"), append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustHelm is helm that fails the test on an error.
func mustHelm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := helm(t, args...)
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), "helm %s\n%s", strings.Join(args, " "), out)
	return out
}

// kubectl runs bin/kubectl as the administrator and returns its combined output.
func kubectl(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(testenv.BinDir(), "kubectl"), append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// crdNames lists the chart's CRDs by name (files/crds).
func crdNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir(), "files", "crds", "*.yaml"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimPrefix(strings.TrimSuffix(filepath.Base(f), ".yaml"), "baosync.io_")+".baosync.io")
	}
	return names
}

// adoptCRDs gives the CRDs that the harness installed (as `make install` or
// kustomize would) to a Helm release: the step docs/upgrading.md documents
// before the first `helm install` over existing CRDs.
func adoptCRDs(t *testing.T, release, namespace string) {
	t.Helper()
	g := NewWithT(t)
	for _, name := range crdNames(t) {
		out, err := kubectl(t, "", "label", "crd", name, "app.kubernetes.io/managed-by=Helm", "--overwrite")
		g.Expect(err).NotTo(HaveOccurred(), out)
		out, err = kubectl(t, "", "annotate", "crd", name, "meta.helm.sh/release-name="+release,
			"meta.helm.sh/release-namespace="+namespace, "--overwrite")
		g.Expect(err).NotTo(HaveOccurred(), out)
	}
}

// deploymentOf returns the Deployment in rendered chart output.
func deploymentOf(t *testing.T, manifest string) *appsv1.Deployment {
	t.Helper()
	for _, doc := range strings.Split(manifest, "\n---") {
		d := &appsv1.Deployment{}
		if yaml.Unmarshal([]byte(doc), d) == nil && d.Kind == "Deployment" {
			return d
		}
	}
	t.Fatalf("no Deployment in the rendered chart")
	return nil
}

var (
	operatorBinOnce sync.Once
	operatorBin     string
	operatorBinErr  error
)

// chartOperatorBinary builds the operator once for the chart tests.
func chartOperatorBinary(t *testing.T) string {
	t.Helper()
	operatorBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "baosync-chart-bin-")
		if err != nil {
			operatorBinErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		operatorBin, operatorBinErr = testenv.BuildOperator(ctx, dir)
	})
	NewWithT(t).Expect(operatorBinErr).NotTo(HaveOccurred())
	return operatorBin
}

// startAsPod runs the operator as a pod of the rendered Deployment would: the
// container's args, acting as the Deployment's ServiceAccount with whatever
// RBAC the chart installed (impersonated, nothing else granted), with only the
// listen addresses moved to free local ports and, with --leader-elect, the
// Lease namespace that a pod would take from its own.
func startAsPod(t *testing.T, name string, d *appsv1.Deployment) *testenv.OperatorProcess {
	t.Helper()
	g := NewWithT(t)
	port, err := testenv.FreePortPair()
	g.Expect(err).NotTo(HaveOccurred())
	args := append([]string{}, d.Spec.Template.Spec.Containers[0].Args...)
	args = append(args, "--kubeconfig", kubeconfigAs(t, d.Namespace, d.Spec.Template.Spec.ServiceAccountName),
		"--metrics-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		"--health-probe-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)),
		"--leader-election-namespace", d.Namespace)
	o, err := testenv.StartProcess(chartOperatorBinary(t), filepath.Join(env.Dir, name+".log"), net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil, args...)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(o.Stop)
	return o
}

// kubeconfigAs writes a kubeconfig that impersonates ServiceAccount ns/sa.
func kubeconfigAs(t *testing.T, ns, sa string) string {
	t.Helper()
	g := NewWithT(t)
	b, err := os.ReadFile(env.Kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	kc := map[string]any{}
	g.Expect(yaml.Unmarshal(b, &kc)).To(Succeed())
	users, _ := kc["users"].([]any)
	for _, u := range users {
		if user, ok := u.(map[string]any)["user"].(map[string]any); ok {
			user["as"] = fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa)
			user["as-groups"] = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
		}
	}
	out, err := yaml.Marshal(kc)
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(os.WriteFile(path, out, 0o600)).To(Succeed())
	return path
}

// syncedExternalSecret is an ExternalSecret that copies property "v" of KV
// path key into Secret name, refreshed every two seconds.
func syncedExternalSecret(ns, name, store, key string) *v1alpha1.ExternalSecret {
	return &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: store},
			RefreshInterval: &metav1.Duration{Duration: 2 * time.Second},
			Data:            []v1alpha1.ExternalSecretData{{SecretKey: "v", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: "v"}}}}}
}

// secretValue reads key "v" of Secret ns/name ("" when it is missing).
func secretValue(ctx context.Context, ns, name string) string {
	s := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		return ""
	}
	return string(s.Data["v"])
}

// createNamespace creates a namespace that may already exist.
func createNamespace(t *testing.T, name string) {
	t.Helper()
	err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	NewWithT(t).Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
}
