package template

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestPKIHelpers_RoundTripPEMThroughPKCS12 builds an archive from PEM and
// takes the key and certificate back out, with and without a password.
func TestPKIHelpers_RoundTripPEMThroughPKCS12(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	data := map[string][]byte{"crt": []byte(certPEM), "key": []byte(keyPEM), "pw": []byte("archive-pass")}
	cases := map[string]string{
		"certificate back":         `{{ pemToPkcs12 .crt .key | pkcs12cert }}`,
		"certificate, password":    `{{ pemToPkcs12Pass .crt .key .pw | pkcs12certPass .pw }}`,
		"key back":                 `{{ pemToPkcs12 .crt .key | pkcs12key | filterPEM "PRIVATE KEY" }}`,
		"filterPEM keeps one type": `{{ printf "%s%s" .crt .key | filterPEM "CERTIFICATE" }}`,
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := Render(name, text, data)
			if err != nil {
				t.Fatal(err)
			}
			want := "-----BEGIN CERTIFICATE-----"
			if strings.Contains(name, "key") {
				want = "-----BEGIN PRIVATE KEY-----"
			}
			if !strings.HasPrefix(string(out), want) || strings.Count(string(out), "-----BEGIN") != 1 {
				t.Fatalf("got %q", out)
			}
		})
	}
	_, err := Render("wrong", `{{ pemToPkcs12Pass .crt .key .pw | pkcs12keyPass "nope" }}`, data)
	if err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("a wrong password must fail clearly, got %v", err)
	}
}

func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "baosync"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}
