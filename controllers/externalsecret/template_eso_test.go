package externalsecret

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestTemplates_ESOFunctionsThroughTheOperator renders ESO's template
// functions (ESO's documented `pemToPkcs12 … | b64dec`, the chain and SAN
// helpers, YAML and hex) from values kept in Vault, through the operator.
func TestTemplates_ESOFunctionsThroughTheOperator(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	caPEM, leafPEM, keyPEM := esoTestChain(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "eso-templates")
	putKV(t, path, map[string]any{
		"chain": leafPEM + caPEM,
		"key":   leak.Secret(keyPEM),
		"hex":   "73332d6b6579", // "s3-key"
		"cfg":   "user: app\nport: 5432\n",
	})
	createES(t, newES(ns, "app", "vault", func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: path[len("secret/"):]}}}
		es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Data: map[string]string{
			"keystore.p12":   `{{ fullPemToPkcs12Pass .chain .key "changeit" | b64dec }}`,
			"keystore.b64":   `{{ pemToPkcs12 .chain .key }}`,
			"truststore.p12": `{{ filterCertChain "root" .chain | pemTruststoreToPKCS12 | b64dec }}`,
			"tls.crt":        `{{ filterCertChain "leaf" .chain }}`,
			"sans":           `{{ certSANs .chain | join "," }}`,
			"hex":            `{{ hexdec .hex }}`,
			"config.yaml":    `{{ fromYaml .cfg | toYaml }}`,
		}}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	s := getSecret(t, ns, "app")
	_, cert, cas, err := pkcs12.DecodeChain(s.Data["keystore.p12"], "changeit")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cert.Subject.CommonName).To(Equal("leaf"))
	g.Expect(cas).To(HaveLen(1))
	raw, err := base64.StdEncoding.DecodeString(string(s.Data["keystore.b64"]))
	g.Expect(err).NotTo(HaveOccurred(), "pemToPkcs12 writes base64 text, as in ESO")
	_, _, err = pkcs12.Decode(raw, "")
	g.Expect(err).NotTo(HaveOccurred())
	trust, err := pkcs12.DecodeTrustStore(s.Data["truststore.p12"], "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(trust).To(HaveLen(1))
	g.Expect(string(s.Data["tls.crt"])).To(Equal(leafPEM))
	g.Expect(string(s.Data["sans"])).To(Equal("app.example.com,10.1.2.3"))
	g.Expect(string(s.Data["hex"])).To(Equal("s3-key"))
	g.Expect(string(s.Data["config.yaml"])).To(Equal("port: 5432\nuser: app"))
}

// TestTemplates_FilterPEMOnTextThatIsNotPEMFailsTheSync shows ESO's
// filterPEM error reaching the condition, without the value.
func TestTemplates_FilterPEMOnTextThatIsNotPEMFailsTheSync(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "not-pem")
	putKV(t, path, map[string]any{"crt": leak.Secret("plain-text-not-pem")})
	createES(t, newES(ns, "app", "vault", func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: path[len("secret/"):]}}}
		es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Data: map[string]string{"tls.crt": `{{ .crt | filterPEM "certificate" }}`}}
	}))
	waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonTemplateError)
}

// esoTestChain returns a CA and a leaf it signed (with SANs), and the
// leaf's key, as PEM.
func esoTestChain(t *testing.T) (string, string, string) {
	t.Helper()
	g := NewWithT(t)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	g.Expect(err).NotTo(HaveOccurred())
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "leaf"},
		DNSNames: []string{"app.example.com"}, IPAddresses: []net.IP{net.ParseIP("10.1.2.3")},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	g.Expect(err).NotTo(HaveOccurred())
	kder, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	return enc("CERTIFICATE", caDER), enc("CERTIFICATE", leafDER), enc("PRIVATE KEY", kder)
}
