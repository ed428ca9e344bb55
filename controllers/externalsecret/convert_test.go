package externalsecret

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/commands/convert"
	"github.com/baosync/baosync/internal/esoconvert"
	"github.com/baosync/baosync/test/testenv"
)

// TestConvert_ESOManifestsApplyAndSync converts test/testdata/eso with
// `baosync convert`'s code, applies the result to the API server and checks
// that it syncs the Secrets the ESO manifests describe.
func TestConvert_ESOManifestsApplyAndSync(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	src, err := os.ReadFile(filepath.Join(testenv.Root(), "test", "testdata", "eso", "vault.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var out bytes.Buffer
	ns := newNamespace(t)
	src = bytes.ReplaceAll(src, []byte("http://127.0.0.1:8200"), []byte(env.Vault.Addr))
	src = bytes.ReplaceAll(src, []byte("NAMESPACE"), []byte(ns))
	warnings, err := esoconvert.Convert(bytes.NewReader(src), &out)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warnings).To(HaveLen(2), "the AWS store and the generator are reported: %v", warnings)

	createSecret(t, ns, "vault-token", map[string]string{"token": env.Vault.Token})
	createSecret(t, ns, "local-source", map[string]string{"token": "pushed-from-k8s"})
	createSecret(t, ns, "json-source", map[string]string{"config": `{"user":"whole"}`})
	_, err = env.Write(ctx, "secret/metadata/eso/db", map[string]any{"custom_metadata": map[string]any{"owner": "payments"}})
	g.Expect(err).NotTo(HaveOccurred())
	putKV(t, "secret/eso/db", map[string]any{"username": "app", "password": leak.Secret("eso-db-pw")})
	putKV(t, "secret/eso/api", map[string]any{"token": leak.Secret("eso-api-token")})
	putKV(t, "secret/eso/certs/a", map[string]any{"crt": "cert-a-pem"})
	for _, doc := range strings.Split(out.String(), "\n---\n") {
		u := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
		if u.GetKind() != "ClusterExternalSecret" {
			u.SetNamespace(ns)
		}
		g.Expect(k8s.Create(ctx, u)).To(Succeed(), "create converted %s %s", u.GetKind(), u.GetName())
	}
	for _, name := range []string{"db", "all-of-api", "with-generator", "generator-only", "with-metadata", "from-bao", "multi-key"} {
		waitReady(t, ns, name, metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	}
	g.Eventually(func() map[string]string { return secretData(t, ns, "from-cluster") }, eventually, poll).
		Should(Equal(map[string]string{"username": "app"}), "the ClusterExternalSecret's ExternalSecret synced")
	g.Eventually(func() map[string]string { return secretData(t, ns, "from-selector") }, eventually, poll).
		Should(Equal(map[string]string{"username": "app"}), "the singular namespaceSelector selected the namespace")
	g.Eventually(func() any {
		s, _ := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/eso/pushed")
		if s == nil {
			return nil
		}
		return s.Data["data"]
	}, eventually, poll).Should(Equal(map[string]any{"token": "pushed-from-k8s"}), "the PushSecret pushed")
	g.Expect(secretData(t, ns, "with-metadata")).To(Equal(map[string]string{"owner": "payments"}))
	g.Expect(secretData(t, ns, "db")).To(Equal(map[string]string{"dsn": "postgres://app:eso-db-pw@db:5432/app"}))
	g.Expect(getSecret(t, ns, "db").Labels).To(HaveKeyWithValue("team", "payments"))
	g.Expect(secretData(t, ns, "all-of-api")).To(Equal(map[string]string{"token": "eso-api-token", "cert-a": `{"crt":"cert-a-pem"}`}))
	withGenerator := secretData(t, ns, "with-generator")
	g.Expect(withGenerator).To(HaveKeyWithValue("k", "app"))
	g.Expect([]rune(leak.Secret(withGenerator["password"]))).To(HaveLen(24), "the converted Password generator feeds the converted ExternalSecret")
	generatorOnly := secretData(t, ns, "generator-only")
	g.Expect([]rune(leak.Secret(generatorOnly["password"]))).To(HaveLen(24), "an ExternalSecret of generators alone needs no secretStoreRef")
	multi := secretData(t, ns, "multi-key")
	g.Expect(multi).To(HaveLen(2), "Password secretKeys: one password per key")
	g.Expect([]rune(leak.Secret(multi["db"]))).To(HaveLen(24))
	g.Expect([]rune(leak.Secret(multi["admin"]))).To(HaveLen(24))
	g.Expect(multi["db"]).NotTo(Equal(multi["admin"]))

	// Issue 12's silent differences behave as in ESO.
	waitReady(t, ns, "eso-forms", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	forms := getSecret(t, ns, "eso-forms")
	g.Expect(forms.Data).To(HaveKeyWithValue("username", []byte("app")), "a key written as the KV v2 API path")
	g.Expect(string(forms.Data["version"])).To(MatchRegexp(`^[0-9]+$`), "metadataPolicy Fetch exposes current_version")
	g.Expect(forms.Labels).To(HaveKeyWithValue("app.kubernetes.io/part-of", "shop"))
	g.Expect(forms.Annotations).To(HaveKeyWithValue("reloader.stakater.com/match", "true"))
	remote := func(path string) func() any {
		return func() any {
			s, _ := env.VaultClient.Logical().ReadWithContext(ctx, path)
			if s == nil {
				return nil
			}
			return s.Data["data"]
		}
	}
	g.Eventually(remote("secret/data/eso/whole"), eventually, poll).Should(Equal(map[string]any{"user": "whole"}),
		"an entry without property pushes the JSON value as the whole secret")
	g.Eventually(remote("secret/data/eso/all-keys"), eventually, poll).Should(Equal(map[string]any{"config": `{"user":"whole"}`}),
		"an entry without secretKey pushes the whole Secret")

	// Items 10 and 11: entries from another store, a check-and-set push.
	waitReady(t, ns, "multi-store", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "multi-store")).To(Equal(map[string]string{"username": "app", "token": "eso-api-token", "crt": "cert-a-pem"}),
		"data and dataFrom entries read through sourceRef.storeRef")
	g.Eventually(remote("secret/data/eso/cas"), eventually, poll).Should(Equal(map[string]any{"token": "pushed-from-k8s"}),
		"a store with checkAndSet pushes")
}

// TestConvert_KubeconfigAddsAServerSideDryRunThatWritesNothing: with
// --kubeconfig every converted object is also judged by the cluster itself
// (here: a namespace that does not exist, which no offline check can know),
// the exit code says so, and nothing is created.
func TestConvert_KubeconfigAddsAServerSideDryRunThatWritesNothing(t *testing.T) {
	t.Parallel() // own namespace
	g := NewWithT(t)
	ns := newNamespace(t)
	src := `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: vault, namespace: NS}
spec: {provider: {vault: {server: "https://bao.example.com", auth: {tokenSecretRef: {name: t, key: token}}}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: app, namespace: NS}
spec:
  secretStoreRef: {name: vault}
  data: [{secretKey: k, remoteRef: {key: app, property: k}}]
`
	file := filepath.Join(t.TempDir(), "eso.yaml")
	run := func(namespace string) (int, string, string) {
		g.Expect(os.WriteFile(file, []byte(strings.ReplaceAll(src, "NS", namespace)), 0o600)).To(Succeed())
		var out, errOut bytes.Buffer
		code := convert.Command([]string{"-f", file, "--kubeconfig", env.Kubeconfig}, nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, stderr := run(ns)
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(out).To(And(ContainSubstring("kind: SecretStore"), ContainSubstring("kind: ExternalSecret")))
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, &v1alpha1.ExternalSecret{})).
		To(MatchError(ContainSubstring("not found")), "a dry run writes nothing")

	code, out, stderr = run("no-such-namespace")
	g.Expect(code).To(Equal(1))
	g.Expect(out).NotTo(ContainSubstring("kind: ExternalSecret"))
	g.Expect(stderr).To(And(
		ContainSubstring("ExternalSecret no-such-namespace/app: the cluster refuses the converted object in a server-side dry run"),
		ContainSubstring(`namespaces "no-such-namespace" not found`)))
}
