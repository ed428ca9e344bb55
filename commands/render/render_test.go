package render

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers/vault"
	"github.com/baosync/baosync/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(ctx context.Context, e *testenv.Env) (func(), error) {
		env = e
		return func() {}, e.KVPut(ctx, "secret/render/app", map[string]any{"user": "svc", "pass": "render-secret-value"})
	}))
}

const esYAML = `apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: app, namespace: NS}
spec:
  secretStoreRef: {name: vault}
  data:
    - {secretKey: user, remoteRef: {key: render/app, property: user}}
    - {secretKey: pass, remoteRef: {key: render/app, property: PROP}}
`

const storeYAML = `---
apiVersion: baosync.io/v1alpha1
kind: SecretStore
metadata: {name: vault}
spec:
  provider:
    vault:
      server: https://unused.example
      path: secret
      auth: {tokenSecretRef: {name: whatever, key: token}}
`

// files writes the manifests and the token file, returning their paths.
func files(t *testing.T, ns, prop string, withStore bool) (string, string) {
	dir := t.TempDir()
	doc := strings.NewReplacer("NS", ns, "PROP", prop).Replace(esYAML)
	if withStore {
		doc += storeYAML
	}
	f, tok := filepath.Join(dir, "es.yaml"), filepath.Join(dir, "token")
	NewWithT(t).Expect(os.WriteFile(f, []byte(doc), 0o600)).To(Succeed())
	NewWithT(t).Expect(os.WriteFile(tok, []byte(env.Vault.Token+"\n"), 0o600)).To(Succeed())
	return f, tok
}

func TestRender(t *testing.T) {
	cases := []struct {
		name     string
		args     func(file, token string) []string
		prop     string
		inFile   bool // the store is in the file; otherwise it is in the cluster
		code     int
		stdout   []string
		noStdout []string
		stderr   string
		env      map[string]string
	}{{
		name: "masks values by default", prop: "pass", inFile: true,
		args: func(f, tok string) []string {
			return []string{"-f", f, "--vault-addr", env.Vault.Addr, "--vault-token-file", tok}
		},
		stdout:   []string{"kind: Secret", "pass: <19 bytes>", "user: <3 bytes>"},
		noStdout: []string{"render-secret-value"},
	}, {
		name: "shows values when asked", prop: "pass", inFile: true,
		args: func(f, tok string) []string {
			return []string{"-f", f, "--vault-addr", env.Vault.Addr, "--vault-token-file", tok, "--show-values"}
		},
		stdout: []string{"pass: render-secret-value"},
	}, {
		name: "reads the store and its auth Secret from the cluster", prop: "pass",
		args:     func(f, _ string) []string { return []string{"-f", f, "--kubeconfig", env.Kubeconfig, "--store-auth"} },
		stdout:   []string{"pass: <19 bytes>"},
		noStdout: []string{"render-secret-value"},
	}, {
		name: "says why it would fail, with the Reason", prop: "nope", inFile: true,
		args: func(f, tok string) []string {
			return []string{"-f", f, "--vault-addr", env.Vault.Addr, "--vault-token-file", tok}
		},
		code: exitFail, stderr: `PropertyNotFound: data[1] (secretKey "pass")`,
	}, {
		name: "honours VAULT_ADDR and VAULT_TOKEN like every Vault CLI", prop: "pass", inFile: true,
		args:   func(f, _ string) []string { return []string{"-f", f} },
		env:    map[string]string{"VAULT_ADDR": "VAULTADDR", "VAULT_TOKEN": "VAULTTOKEN", "VAULT_NAMESPACE": ""},
		stdout: []string{"pass: <19 bytes>"},
	}, {
		name: "reads ~/.vault-token when no token is given", prop: "pass", inFile: true,
		args:   func(f, _ string) []string { return []string{"-f", f, "--vault-addr", env.Vault.Addr} },
		env:    map[string]string{"HOME": "TOKENDIR"},
		stdout: []string{"pass: <19 bytes>"},
	}, {
		name: "logs in with a store's credentials only when asked", prop: "pass",
		args: func(f, _ string) []string { return []string{"-f", f, "--kubeconfig", env.Kubeconfig} },
		code: exitFail, stderr: "give --vault-addr to read with your own token, or --store-auth",
	}, {
		name: "explains its usage", args: func(string, string) []string { return nil }, code: exitUsage, stderr: "usage: baosync render",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ns := "render-" + strings.ReplaceAll(strings.ToLower(tc.name[:8]), " ", "-")
			if !tc.inFile && tc.code == 0 {
				clusterStore(t, ns)
			}
			f, tok := files(t, ns, tc.prop, tc.inFile)
			var out, errOut bytes.Buffer
			getenv := func(k string) string {
				return strings.NewReplacer("VAULTADDR", env.Vault.Addr, "VAULTTOKEN", env.Vault.Token, "TOKENDIR", filepath.Dir(tok)).Replace(tc.env[k])
			}
			if tc.env["HOME"] != "" {
				NewWithT(t).Expect(os.Rename(tok, filepath.Join(filepath.Dir(tok), ".vault-token"))).To(Succeed())
			}
			code := CommandEnv(tc.args(f, tok), getenv, vault.New(), &out, &errOut)
			g.Expect(code).To(Equal(tc.code), "stderr: %s", errOut.String())
			for _, s := range tc.stdout {
				g.Expect(out.String()).To(ContainSubstring(s))
			}
			for _, s := range tc.noStdout {
				g.Expect(out.String()).NotTo(ContainSubstring(s))
			}
			g.Expect(errOut.String()).To(ContainSubstring(tc.stderr))
			g.Expect(errOut.String()).NotTo(ContainSubstring("render-secret-value"))
		})
	}
}

// clusterStore creates namespace ns with a token SecretStore "vault".
func clusterStore(t *testing.T, ns string) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(env.TokenStore(ctx, ns, "vault")).To(Succeed())
}

func TestRender_EveryExternalSecretOfAFile(t *testing.T) {
	g := NewWithT(t)
	f, tok := files(t, "render-multi", "pass", true)
	b, err := os.ReadFile(f)
	g.Expect(err).NotTo(HaveOccurred())
	second := strings.NewReplacer("name: app,", "name: second,", "NS", "render-multi", "PROP", "user").Replace(esYAML)
	broken := strings.NewReplacer("name: app,", "name: broken,", "NS", "render-multi", "PROP", "nope").Replace(esYAML)
	g.Expect(os.WriteFile(f, []byte(string(b)+"---\n"+second+"---\n"+broken), 0o600)).To(Succeed())
	var out, errOut bytes.Buffer
	code := CommandEnv([]string{"-f", f, "--vault-addr", env.Vault.Addr, "--vault-token-file", tok}, func(string) string { return "" }, vault.New(), &out, &errOut)
	g.Expect(code).To(Equal(exitFail), "one of three fails")
	g.Expect(strings.Count(out.String(), "kind: Secret")).To(Equal(2), out.String())
	g.Expect(out.String()).To(ContainSubstring("name: app\n"))
	g.Expect(out.String()).To(ContainSubstring("name: second\n"))
	g.Expect(out.String()).To(ContainSubstring("\n---\n"))
	g.Expect(errOut.String()).To(ContainSubstring("ExternalSecret render-multi/broken: PropertyNotFound"))
}

// TestRender_AStoreLessExternalSecretWithVaultAddrSet: ESO's generator example
// has no secretStoreRef; with VAULT_ADDR set (as most Vault users have it) it
// renders from the cluster's generator instead of failing.
func TestRender_AStoreLessExternalSecretWithVaultAddrSet(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := "render-storeless"
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: ns},
		Spec: v1alpha1.PasswordSpec{Length: 12}})).To(Succeed())
	f := filepath.Join(t.TempDir(), "es.yaml")
	g.Expect(os.WriteFile(f, []byte(`apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: app, namespace: `+ns+`}
spec:
  dataFrom: [{sourceRef: {generatorRef: {kind: Password, name: pw}}}]
`), 0o600)).To(Succeed())
	getenv := func(k string) string {
		return map[string]string{"VAULT_ADDR": env.Vault.Addr, "VAULT_TOKEN": env.Vault.Token}[k]
	}
	var out, errOut bytes.Buffer
	code := CommandEnv([]string{"-f", f, "--kubeconfig", env.Kubeconfig}, getenv, vault.New(), &out, &errOut)
	g.Expect(code).To(Equal(0), "stderr: %s", errOut.String())
	g.Expect(out.String()).To(ContainSubstring("password: <12 bytes>"))
}

// TestRender_SendsTheCallersCredentialsOnlyWhereTheCallerSaid is issue 21's
// fifth attack: stores written by someone else (in the file, or a tenant's in
// the cluster named by a sourceRef) name a server that records what it gets.
// With --vault-addr the caller's token goes to that address only; with
// --store-auth a store of the file is never used, so it cannot make render
// read a Secret with the caller's kubeconfig and send it away.
func TestRender_SendsTheCallersCredentialsOnlyWhereTheCallerSaid(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	var got []string
	var mu sync.Mutex
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("X-Vault-Token")+" "+string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
	}))
	defer evil.Close()
	ns := "render-deputy"
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "admin-token", Namespace: ns},
		StringData: map[string]string{"token": "cluster-credential-0123456789"}})).To(Succeed())
	tenantStore := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: evil.URL, Path: ptr("secret"),
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "admin-token", Key: "token"}}}}}}
	g.Expect(env.Client.Create(ctx, tenantStore)).To(Succeed())
	fileStore := strings.NewReplacer("https://unused.example", evil.URL, "name: whatever", "name: admin-token").Replace(storeYAML)
	doc := strings.NewReplacer("NS", ns, "PROP", "pass").Replace(esYAML) +
		"    - {secretKey: other, remoteRef: {key: render/app, property: user}, sourceRef: {storeRef: {name: tenant}}}\n" + fileStore
	f, tok := filepath.Join(t.TempDir(), "es.yaml"), filepath.Join(t.TempDir(), "token")
	g.Expect(os.WriteFile(f, []byte(doc), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(tok, []byte(env.Vault.Token), 0o600)).To(Succeed())
	none := func(string) string { return "" }

	var out, errOut bytes.Buffer
	code := CommandEnv([]string{"-f", f, "--kubeconfig", env.Kubeconfig, "--vault-addr", env.Vault.Addr, "--vault-token-file", tok},
		none, vault.New(), &out, &errOut)
	g.Expect(code).To(Equal(exitOK), "stderr: %s", errOut.String())
	g.Expect(out.String()).To(ContainSubstring("other: <3 bytes>"), "the tenant store's path is read from the caller's address")

	out.Reset()
	errOut.Reset()
	code = CommandEnv([]string{"-f", f, "--kubeconfig", env.Kubeconfig, "--store-auth"}, none, vault.New(), &out, &errOut)
	g.Expect(code).To(Equal(exitFail), "the cluster holds no store %q: the file's is not used; stdout: %s", "vault", out.String())
	g.Expect(errOut.String()).To(ContainSubstring("StoreNotFound"))

	mu.Lock()
	defer mu.Unlock()
	g.Expect(got).To(BeEmpty(), "a store's server received requests it was never meant to")
}

func ptr[T any](v T) *T { return &v }
