package chart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestUpgrade_ChartUpgradeKeepsEverySecretSynced installs the chart with helm
// on the real API server and runs the operator as its Deployment would, with
// the chart's RBAC; ExternalSecrets sync. Then `helm upgrade` to a newer chart
// (new version, image tag and flags, and a changed CRD) and a rolling update
// (the new operator starts, the old one stops). While that happens a watch
// sees no Secret deleted or emptied; afterwards the CRD is the new one, every
// Secret is the same object, and a rotation in Vault reaches every Secret
// through the new operator.
func TestUpgrade_ChartUpgradeKeepsEverySecretSynced(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const release, ns, apps, n = "upg", "baosync-upgrade", "upgrade-apps", 8
	adoptCRDs(t, release, ns)
	mustHelm(t, "install", release, chartDir(), "--namespace", ns, "--create-namespace", "--wait=false", "--set", "concurrent=5")
	t.Cleanup(func() { _, _ = helm(t, "uninstall", release, "--namespace", ns) })
	before := startAsPod(t, "chart-upgrade-before", deploymentOf(t, mustHelm(t, "get", "manifest", release, "--namespace", ns)))

	createNamespace(t, apps)
	g.Expect(env.TokenStore(ctx, apps, "vault")).To(Succeed())
	for i := range n {
		g.Expect(env.KVPut(ctx, fmt.Sprintf("secret/chart/upgrade/%d", i), map[string]any{"v": fmt.Sprintf("before-%d", i)})).To(Succeed())
		g.Expect(env.Client.Create(ctx, syncedExternalSecret(apps, fmt.Sprintf("app-%d", i), "vault", fmt.Sprintf("chart/upgrade/%d", i)))).To(Succeed())
	}
	uids := map[string]types.UID{}
	g.Eventually(func(g Gomega) {
		for i := range n {
			s := &corev1.Secret{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: apps, Name: fmt.Sprintf("app-%d", i)}, s)).To(Succeed())
			g.Expect(string(s.Data["v"])).To(Equal(fmt.Sprintf("before-%d", i)))
			uids[s.Name] = s.UID
		}
	}, time.Minute, 200*time.Millisecond).Should(Succeed(), "operator log: %s", before.LogPath)
	harm := watchForHarm(ctx, t, apps)

	newer := newerChart(t)
	mustHelm(t, "upgrade", release, newer, "--namespace", ns, "--wait=false", "--set", "concurrent=10", "--set", "image.tag=v0.2.0")
	d := deploymentOf(t, mustHelm(t, "get", "manifest", release, "--namespace", ns))
	g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":v0.2.0"))
	g.Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--concurrent=10"))
	after := startAsPod(t, "chart-upgrade-after", d) // a rolling update: the new pod first,
	time.Sleep(2 * time.Second)
	before.Stop() // then the old one ends

	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: "externalsecrets.baosync.io"}, live)).To(Succeed())
	crd := &apiextensionsv1.CustomResourceDefinition{}
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, crd)).To(Succeed())
	g.Expect(crd.Spec.Versions[0].AdditionalPrinterColumns).To(ContainElement(HaveField("Name", "Upgraded")), "helm upgrade updates the CRD")
	g.Expect(crd.Annotations).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))

	for i := range n {
		g.Expect(env.KVPut(ctx, fmt.Sprintf("secret/chart/upgrade/%d", i), map[string]any{"v": fmt.Sprintf("after-%d", i)})).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		for i := range n {
			name := fmt.Sprintf("app-%d", i)
			s := &corev1.Secret{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: apps, Name: name}, s)).To(Succeed())
			g.Expect(string(s.Data["v"])).To(Equal(fmt.Sprintf("after-%d", i)))
			g.Expect(s.UID).To(Equal(uids[name]), "the same Secret, never recreated")
			es := &v1alpha1.ExternalSecret{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: apps, Name: name}, es)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(es.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
		}
	}, time.Minute, 200*time.Millisecond).Should(Succeed(), "operator log: %s", after.LogPath)
	g.Expect(after.Exited()).To(BeFalse())
	g.Expect(harm()).To(BeEmpty(), "no Secret was deleted or emptied during the upgrade")
}

// watchForHarm watches the Secrets of ns and returns a function that stops
// the watch and lists every deletion and every write that left a Secret
// without its value.
func watchForHarm(ctx context.Context, t *testing.T, ns string) func() []string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	w, err := cs.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	var mu sync.Mutex
	var harm []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*corev1.Secret)
			if !ok || s.Name == "tok" {
				continue
			}
			mu.Lock()
			switch {
			case ev.Type == watch.Deleted:
				harm = append(harm, "deleted "+s.Name)
			case ev.Type == watch.Modified && len(s.Data["v"]) == 0:
				harm = append(harm, "emptied "+s.Name)
			}
			mu.Unlock()
		}
	}()
	return func() []string {
		w.Stop()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return harm
	}
}

// newerChart copies the chart into a temporary directory as the next release
// would change it: a new version and appVersion, and a new printer column on
// the ExternalSecret CRD (which helm upgrade must apply).
func newerChart(t *testing.T) string {
	t.Helper()
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), "baosync")
	g.Expect(os.CopyFS(dir, os.DirFS(chartDir()))).To(Succeed())
	edit := func(name string, old *regexp.Regexp, new string) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(old.Match(b)).To(BeTrue(), "%s in %s", old, name)
		g.Expect(os.WriteFile(path, old.ReplaceAll(b, []byte(new)), 0o600)).To(Succeed())
	}
	edit("Chart.yaml", regexp.MustCompile(`(?m)^version: .*$`), "version: 99.0.0")
	edit("Chart.yaml", regexp.MustCompile(`(?m)^appVersion: .*$`), `appVersion: "v99.0.0"`)
	edit("files/crds/baosync.io_externalsecrets.yaml", regexp.MustCompile(`(?m)^  - additionalPrinterColumns:\n`),
		"  - additionalPrinterColumns:\n    - jsonPath: .metadata.creationTimestamp\n      name: Upgraded\n      type: date\n")
	return dir
}
