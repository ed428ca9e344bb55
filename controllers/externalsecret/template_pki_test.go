package externalsecret

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestTemplates_BuildAKeystoreFromPEMInVault turns a PEM certificate and key
// kept in Vault into a password-protected PKCS#12 keystore.
func TestTemplates_BuildAKeystoreFromPEMInVault(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "keystore"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	g.Expect(err).NotTo(HaveOccurred())
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "tls")
	putKV(t, path, map[string]any{
		"crt": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"key": leak.Secret(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))),
	})
	createES(t, newES(ns, "app", "vault", func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: path[len("secret/"):]}}}
		es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Data: map[string]string{
			"keystore.p12": `{{ pemToPkcs12Pass .crt .key "changeit" | b64dec }}`, // base64 text, as in ESO
			"tls.crt":      `{{ .crt | filterPEM "CERTIFICATE" }}`,
		}}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	s := getSecret(t, ns, "app")
	_, cert, _, err := pkcs12.DecodeChain(s.Data["keystore.p12"], "changeit")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cert.Subject.CommonName).To(Equal("keystore"))
	g.Expect(string(s.Data["tls.crt"])).To(HavePrefix("-----BEGIN CERTIFICATE-----"))
}
