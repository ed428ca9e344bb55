package externalsecret

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert"
	"github.com/baosync/baosync/test/testenv"
)

// TestSamples_EveryAuthAndFeatureSampleSyncs applies config/samples/auth_*.yaml
// and feature_*.yaml as a reader would (after the "First:" steps in their
// comments), and checks that each one works, so that no sample rots.
func TestSamples_EveryAuthAndFeatureSampleSyncs(t *testing.T) {
	// Not parallel: the samples use fixed names, KV paths and auth roles.
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "baosync-samples", "true")
	putKV(t, "secret/samples/app", map[string]any{"username": "svc", "password": leak.Secret("sample-password")})
	putKV(t, "secret/samples/team/a", map[string]any{"k": "a"})
	putKV(t, "secret/samples/team/b", map[string]any{"k": "b"})
	roleID, secretID := appRole(t, "samples")
	g.Expect(env.UserPass(ctx, "baosync", leak.Secret("sample-userpass-pw"))).To(Succeed())
	jwt := signedJWT(t, "baosync")
	for name, data := range map[string]map[string]string{
		"bao-token": {"token": env.Vault.Token}, "approle": {"secret-id": secretID},
		"baosync-password": {"password": "sample-userpass-pw"}, "ci-jwt": {"token": jwt}, "generated-key": {"key": "pushed-sample"},
	} {
		createSecret(t, ns, name, data)
	}
	labels := map[string]string{"app": "web"}
	g.Expect(k8s.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web"}}}}}})).To(Succeed())

	tlsAddr, caBundle := tlsVaultWithCertAuth(t, ns)
	// feature_generator_database.yaml and feature_generator_pki.yaml: the roles
	// docs/generators-vault-dynamic.md sets up.
	g.Expect(env.DatabaseRole(ctx, "app", time.Hour, 24*time.Hour)).To(Succeed())
	g.Expect(env.PKIRole(ctx, "web", 720*time.Hour)).To(Succeed())
	synced := []string{"cert-example", "token-example", "approle-example", "userpass-example", "jwt-example",
		"template-example", "find-example", "cluster-store-example", "restart-example", "shared-credentials", "generated-example",
		"database-example", "pki-example"}
	withLDAP := ldapSample(t, ns)
	if withLDAP {
		synced = append(synced, "ldap-example")
	}

	files, _ := filepath.Glob(filepath.Join(testenv.Root(), "config", "samples", "*_*.yaml"))
	replace := strings.NewReplacer("http://127.0.0.1:8200", env.Vault.Addr, "ROLE_ID", roleID, "OPERATOR_NAMESPACE", ns,
		"https://127.0.0.1:8300", tlsAddr, "CA_BUNDLE_BASE64", caBundle)
	applied := 0
	for _, f := range files {
		base := filepath.Base(f)
		if !strings.HasPrefix(base, "auth_") && !strings.HasPrefix(base, "feature_") || base == "auth_ldap.yaml" && !withLDAP {
			continue
		}
		b, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		for _, doc := range bytes.Split([]byte(replace.Replace(string(b))), []byte("\n---\n")) {
			u := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal(doc, &u.Object)).To(Succeed(), base)
			if k := u.GetKind(); k != "ClusterSecretStore" && k != "ClusterExternalSecret" {
				u.SetNamespace(ns)
			}
			g.Expect(k8s.Create(ctx, u)).To(Succeed(), "%s: %s %s", base, u.GetKind(), u.GetName())
			applied++
		}
	}
	g.Expect(applied).To(BeNumerically(">=", 16))
	// ESO v2.9's cert auth names the role vaultRole; converted, it logs in as
	// auth_cert.yaml's store does.
	var converted bytes.Buffer
	_, err := esoconvert.Convert(strings.NewReader(replace.Replace(esoCertStore)), &converted)
	g.Expect(err).NotTo(HaveOccurred())
	for _, doc := range bytes.Split(converted.Bytes(), []byte("\n---\n")) {
		u := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal(doc, &u.Object)).To(Succeed())
		u.SetNamespace(ns)
		g.Expect(k8s.Create(ctx, u)).To(Succeed(), "converted %s %s", u.GetKind(), u.GetName())
	}
	synced = append(synced, "eso-cert-example")

	for _, name := range synced {
		waitReady(t, ns, name, metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	}
	g.Expect(secretData(t, ns, "approle-example")).To(Equal(map[string]string{"password": "sample-password"}))
	g.Expect(secretData(t, ns, "find-example")).To(Equal(map[string]string{"a": `{"k":"a"}`, "b": `{"k":"b"}`}))
	g.Expect(string(getSecret(t, ns, "template-example").Type)).To(Equal("kubernetes.io/dockerconfigjson"))
	g.Eventually(func() any {
		s, _ := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/samples/pushed")
		if s == nil {
			return nil
		}
		return s.Data["data"]
	}, eventually, poll).Should(Equal(map[string]any{"key": "pushed-sample"}))
	pg, err := env.Postgres(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	db := generatedData(t, ns, "database-example")
	g.Expect(pg.TryLogin(ctx, db["username"], db["password"])).To(Succeed())
	g.Expect(getSecret(t, ns, "pki-example").Type).To(Equal(corev1.SecretTypeTLS))
	leak.Secret(string(getSecret(t, ns, "pki-example").Data["tls.key"]))
	generated := generatedData(t, ns, "generated-example")
	g.Expect([]rune(generated["DB_PASSWORD"])).To(HaveLen(32))
	g.Expect(generated["uuid"]).To(HaveLen(36))
	g.Eventually(func() any {
		s, _ := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/samples/generated")
		if s == nil {
			return ""
		}
		d, _ := s.Data["data"].(map[string]any)
		v, _ := d["password"].(string)
		if v != "" {
			leak.Secret(v)
		}
		return v
	}, eventually, poll).Should(HaveLen(32))
}

// esoCertStore is an ESO v2.9 store with cert auth (its role is vaultRole)
// and an ExternalSecret that reads through it.
const esoCertStore = `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: eso-cert}
spec:
  provider:
    vault:
      server: https://127.0.0.1:8300
      caBundle: CA_BUNDLE_BASE64
      path: secret
      auth:
        cert:
          vaultRole: baosync
          clientCert: {name: baosync-client, key: tls.crt}
          secretRef: {name: baosync-client, key: tls.key}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: eso-cert-example}
spec:
  secretStoreRef: {name: eso-cert}
  data:
    - secretKey: password
      remoteRef: {key: samples/tls-app, property: password}
`

// tlsVaultWithCertAuth starts a second Vault over https with cert auth trusting
// a fresh client CA, creates the client certificate Secret of auth_cert.yaml in
// ns, and returns the server's address and its CA as base64.
func tlsVaultWithCertAuth(t *testing.T, ns string) (string, string) {
	g := NewWithT(t)
	ctx := context.Background()
	v, err := testenv.StartVault(ctx, testenv.VaultOptions{Dir: t.TempDir(), TLS: true})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = v.Stop() })
	root, err := v.Client()
	g.Expect(err).NotTo(HaveOccurred())
	ca, cert, key, err := testenv.ClientCertificate("baosync")
	g.Expect(err).NotTo(HaveOccurred())
	for _, w := range []struct {
		path string
		data map[string]any
	}{
		{"sys/policies/acl/read", map[string]any{"policy": testenv.ReadPolicy}},
		{"sys/auth/cert", map[string]any{"type": "cert"}},
		{"auth/cert/certs/baosync", map[string]any{"certificate": string(ca), "token_policies": "read"}},
		{"secret/data/samples/tls-app", map[string]any{"data": map[string]any{"password": leak.Secret("tls-sample-password")}}},
	} {
		_, err := root.Logical().WriteWithContext(ctx, w.path, w.data)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "baosync-client", Namespace: ns},
		Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": cert, "tls.key": key}})).To(Succeed())
	return v.Addr, base64.StdEncoding.EncodeToString(v.CACert)
}
