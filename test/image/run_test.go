package image

import (
	"context"
	"debug/buildinfo"
	"fmt"
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

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestImage_TheBinaryInTheLayerRunsAsTheOperator extracts /baosync from the
// linux/amd64 image's layers and runs that very file as the operator, with
// the operator's ServiceAccount, until an ExternalSecret is Ready.
func TestImage_TheBinaryInTheLayerRunsAsTheOperator(t *testing.T) {
	g := NewWithT(t)
	img := testImage(t)
	bin := filepath.Join(t.TempDir(), "baosync")
	data, err := imageFile(ociLayout(filepath.Join(img.dir, "oci")), "amd64", "baosync")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(bin, data, 0o755)).To(Succeed())

	info, err := buildinfo.ReadFile(bin)
	g.Expect(err).NotTo(HaveOccurred())
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// Go leaves -ldflags out of the build info of a -trimpath build; --version below shows them.
	g.Expect(settings).To(And(HaveKeyWithValue("CGO_ENABLED", "0"), HaveKeyWithValue("-trimpath", "true"),
		HaveKeyWithValue("GOOS", "linux"), HaveKeyWithValue("GOARCH", "amd64")))
	var mods []string
	for _, d := range info.Deps {
		mods = append(mods, d.Path)
	}
	g.Expect(mods).To(ContainElement("golang.org/x/crypto/x509roots/fallback"), "the CA roots the image relies on")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(HavePrefix("baosync " + imageVersion + " (commit "))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := fmt.Sprintf("image-%d", time.Now().UnixNano()%100000)
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	op, err := env.StartOperator(ctx, bin, "image-operator", "--namespace", ns)
	g.Expect(err).NotTo(HaveOccurred())
	defer op.Stop()
	g.Expect(env.TokenStore(ctx, ns, "vault")).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/image/app", map[string]any{"password": "from-the-image"})).To(Succeed())
	es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
			Data: []v1alpha1.ExternalSecretData{{SecretKey: "password",
				RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "image/app", Property: "password"}}}}}
	g.Expect(env.Client.Create(ctx, es)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(op.Exited()).To(BeFalse(), "the operator exited; its log is %s", op.LogPath)
		got := &v1alpha1.ExternalSecret{}
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(es), got)).To(Succeed())
		ready := false
		for _, c := range got.Status.Conditions {
			ready = ready || (c.Type == v1alpha1.ConditionReady && c.Status == metav1.ConditionTrue)
		}
		g.Expect(ready).To(BeTrue(), "conditions: %v", got.Status.Conditions)
		s := &corev1.Secret{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, s)).To(Succeed())
		g.Expect(s.Data).To(HaveKeyWithValue("password", []byte("from-the-image")))
	}, 90*time.Second, 250*time.Millisecond).Should(Succeed())
}

// imageFile returns a regular file of the image for arch, read from its layers
// (the last layer that holds it wins, as when a runtime stacks them).
func imageFile(l ociLayout, arch, name string) ([]byte, error) {
	top, err := l.index()
	if err != nil {
		return nil, err
	}
	for _, d := range top.Manifests {
		if d.MediaType != "application/vnd.oci.image.index.v1+json" {
			continue
		}
		var idx ociIndex
		if err := l.decode(d, &idx); err != nil {
			return nil, err
		}
		for _, p := range idx.Manifests {
			if p.Platform != nil && p.Platform.Architecture == arch {
				return manifestFile(l, p, name)
			}
		}
	}
	return nil, fmt.Errorf("no %s image in the layout", arch)
}

// manifestFile reads name from the layers of one image manifest.
func manifestFile(l ociLayout, d ociDescriptor, name string) ([]byte, error) {
	var m ociManifest
	if err := l.decode(d, &m); err != nil {
		return nil, err
	}
	var cfg ociConfig
	if err := l.decode(m.Config, &cfg); err != nil {
		return nil, err
	}
	var found []byte
	for i, layer := range m.Layers {
		files, err := l.layerFiles(layer, cfg.RootFS.DiffIDs[i])
		if err != nil {
			return nil, err
		}
		if f, ok := files[strings.TrimPrefix(name, "/")]; ok {
			found = f.Data
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no %s in the image", name)
	}
	return found, nil
}
