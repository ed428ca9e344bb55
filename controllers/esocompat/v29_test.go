package esocompat

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert"
	"github.com/baosync/baosync/test/testenv"
)

// v29Secrets are the Secrets test/testdata/eso/v2.9.yaml describes; v29Pushed
// the remote keys its PushSecrets and ClusterPushSecret write under
// eso/<namespace>/.
var (
	v29Secrets = []string{"from-approle", "from-userpass", "windowed", "merged", "decoded", "dynamic"}
	v29Pushed  = []string{"bulk", "config", "cps"}
)

// TestCompat_ESOv29ManifestsUnconvertedGiveTheSameSecretsAsTheirConversion
// applies test/testdata/eso/v2.9.yaml converted in one namespace and
// unconverted (ESO v2.9's CRDs) in another, against the real Vault: ESO's
// openBao provider logging in with AppRole and userpass, syncWindows,
// CreateOrMerge, valuesDecodingStrategy, getParameters, PushSecret dataTo and
// a ClusterPushSecret give the same Secrets and pushed values byte for byte,
// and ESO's ClusterPushSecret carries ESO-shaped status.
func TestCompat_ESOv29ManifestsUnconvertedGiveTheSameSecretsAsTheirConversion(t *testing.T) {
	if env.ESOCRDVersion() != testenv.ESOVersion {
		t.Skipf("needs ESO %s's CRDs (only %s here, outside CI)", testenv.ESOVersion, env.ESOCRDVersion())
	}
	g := NewWithT(t)
	ctx := context.Background()
	converted, unconverted := newNamespace(t), newNamespace(t)
	g.Expect(env.KVPut(ctx, "secret/eso29/db", map[string]any{"username": "app", "password": leak.Secret("eso29-pw-1")})).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/eso29/db", map[string]any{"username": "app", "password": leak.Secret("eso29-pw-2")})).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/eso29/api", map[string]any{"token": leak.Secret("eso29-api-token")})).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/eso29/b64", map[string]any{"b64": base64.StdEncoding.EncodeToString([]byte(leak.Secret("eso29-decoded")))})).To(Succeed())
	roleID, secretID, err := env.AppRole(ctx, "eso29")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.UserPass(ctx, "eso29", leak.Secret("eso29-userpass-pw"))).To(Succeed())
	for _, ns := range []string{converted, unconverted} {
		createSecret(t, ns, "vault-token", map[string]string{"token": env.Vault.Token})
		createSecret(t, ns, "approle", map[string]string{"secret-id": secretID})
		createSecret(t, ns, "userpass", map[string]string{"password": "eso29-userpass-pw"})
		createSecret(t, ns, "local-source", map[string]string{"token": leak.Secret("eso29-pushed")})
		createSecret(t, ns, "local-bulk", map[string]string{"DB_USER": "app", "DB_PASS": leak.Secret("eso29-bulk-pw"), "app-config": `{"level":"info"}`, "other": "x"})
		createSecret(t, ns, "merged", map[string]string{"local": "kept"})
	}

	var out bytes.Buffer
	_, err = esoconvert.Convert(bytes.NewReader(v29Manifests(t, converted, roleID)), &out)
	g.Expect(err).NotTo(HaveOccurred())
	createAll(t, converted, out.Bytes())
	createAll(t, unconverted, v29Manifests(t, unconverted, roleID))

	for _, name := range v29Secrets {
		g.Eventually(func() string { return baosyncReady(ctx, converted, name) }, eventually, poll).Should(Equal(v1alpha1.ReasonSecretSynced), name)
		esoReady(t, "ExternalSecret", unconverted, name, "True", "SecretSynced")
		want, got := secret(t, converted, name), secret(t, unconverted, name)
		g.Expect(got.Data).To(Equal(want.Data), "Secret %s", name)
		g.Expect(got.Type).To(Equal(want.Type), name)
	}
	g.Expect(string(secret(t, unconverted, "decoded").Data["token"])).To(Equal("eso29-decoded"), "valuesDecodingStrategy")
	g.Expect(secret(t, unconverted, "merged").Data).To(HaveKeyWithValue("local", []byte("kept")), "CreateOrMerge keeps the Secret's own keys")
	g.Expect(string(secret(t, unconverted, "dynamic").Data["data"])).To(ContainSubstring("eso29-pw-1"), "getParameters asked for version 1")
	for _, key := range v29Pushed {
		g.Eventually(remote("secret/data/eso/"+converted+"/"+key), eventually, poll).ShouldNot(BeNil(), key)
		want := remote("secret/data/eso/" + converted + "/" + key)()
		g.Eventually(remote("secret/data/eso/"+unconverted+"/"+key), eventually, poll).Should(Equal(want), "pushed %s", key)
	}
	g.Expect(remote("secret/data/eso/" + unconverted + "/bulk")()).To(Equal(map[string]any{"DB_USER": "app", "DB_PASS": "eso29-bulk-pw"}))
	g.Eventually(func() any {
		return esoObject(t, "ClusterPushSecret", "", "eso-cps-"+unconverted).Object["status"]
	}, eventually, poll).Should(And(HaveKeyWithValue("provisionedNamespaces", []any{unconverted}), HaveKeyWithValue("pushSecretName", "eso-cps-"+unconverted)))
}

// v29Manifests reads test/testdata/eso/v2.9.yaml for namespace ns.
func v29Manifests(t *testing.T, ns, roleID string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.Root(), "test", "testdata", "eso", "v2.9.yaml"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	for _, r := range [][2]string{{"http://127.0.0.1:8200", env.Vault.Addr}, {"NAMESPACE", ns}, {"ROLE_ID", roleID}, {"USERNAME", "eso29"},
		{"name: eso-cps", "name: eso-cps-" + ns}, {"remoteKey: eso/", "remoteKey: eso/" + ns + "/"}} {
		src = bytes.ReplaceAll(src, []byte(r[0]), []byte(r[1]))
	}
	return src
}
