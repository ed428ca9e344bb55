package chart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/test/testenv"
)

// TestChart_SchemaRefusesWrongValues renders the chart with values of the
// wrong type, outside their range or unknown, and expects Helm to refuse each
// with the path of the bad value, before anything is rendered.
func TestChart_SchemaRefusesWrongValues(t *testing.T) {
	cases := []struct {
		name, set, path string
	}{
		{"a string for a number", "replicaCount=two", "/replicaCount"},
		{"a negative replica count", "replicaCount=-1", "/replicaCount"},
		{"an unknown top-level value", "replicas=2", "additional properties 'replicas'"},
		{"an unknown nested value", "image.digest=sha256:0", "additional properties 'digest'"},
		{"a pull policy Kubernetes does not know", "image.pullPolicy=Sometimes", "/image/pullPolicy"},
		{"a refreshStatus the flag refuses", "refreshStatus=Never", "/refreshStatus"},
		{"a log level zap does not know", "log.level=trace", "/log/level"},
		{"a duration Go cannot parse", "vault.requestTimeout=10 seconds", "/vault/requestTimeout"},
		{"a namespace that is no DNS label", "scopeNamespace=Team_A", "/scopeNamespace"},
		{"a port out of range", "metrics.port=70000", "/metrics/port"},
		{"a boolean as text", "crds.keep=maybe", "/crds/keep"},
		{"an environment variable without a name", "extraEnv[0].value=x", "/extraEnv/0"},
		{"a mount without a path", "extraVolumeMounts[0].name=ca", "/extraVolumeMounts/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cmd := exec.Command(filepath.Join(testenv.BinDir(), "helm"), "template", "baosync", chartDir(), "--kube-version", serverVersion(t), "--set", tc.set)
			cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			g.Expect(err).To(HaveOccurred(), "helm template accepted %s", tc.set)
			g.Expect(string(out)).To(And(ContainSubstring("values don't meet the specifications of the schema"), ContainSubstring(tc.path)))
		})
	}
}

// TestChart_LintsStrictly runs `helm lint --strict` (warnings fail) with the
// default values and with every optional part switched on.
func TestChart_LintsStrictly(t *testing.T) {
	for _, set := range [][]string{nil, {"scopeNamespace=apps", "replicaCount=2", "operatorIdentity.enabled=true", "rolloutRestart.enabled=true",
		"serviceMonitor.enabled=true", "metrics.certSecret=tls", "extraVolumes[0].name=ca", "extraVolumes[0].configMap.name=ca",
		"extraVolumeMounts[0].name=ca", "extraVolumeMounts[0].mountPath=/ca", "crds.install=false"}} {
		args := []string{"lint", "--strict", chartDir()}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		cmd := exec.Command(filepath.Join(testenv.BinDir(), "helm"), args...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		NewWithT(t).Expect(err).NotTo(HaveOccurred(), "helm %s\n%s", strings.Join(args, " "), out)
	}
}

// TestChart_CRDsAreTheGeneratedOnes checks that the CRD templates render the
// generated CRDs unchanged (only Helm's labels and the keep annotation added),
// and that files/crds is what `make generate` copies.
func TestChart_CRDsAreTheGeneratedOnes(t *testing.T) {
	g := NewWithT(t)
	rendered := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, doc := range strings.Split(string(helmTemplate(t)), "\n---") {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if yaml.Unmarshal([]byte(doc), crd) == nil && crd.Kind == "CustomResourceDefinition" {
			rendered[crd.Name] = crd
		}
	}
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "config", "crd", "bases", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rendered).To(HaveLen(len(files)))
	for _, f := range files {
		b, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		copied, err := os.ReadFile(filepath.Join(chartDir(), "files", "crds", filepath.Base(f)))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(copied)).To(Equal(string(b)), "run make generate")
		want := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(yaml.Unmarshal(b, want)).To(Succeed())
		got := rendered[want.Name]
		g.Expect(got).NotTo(BeNil(), want.Name)
		g.Expect(got.Spec).To(Equal(want.Spec), want.Name)
		g.Expect(got.Annotations).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
		g.Expect(got.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"))
	}
}
