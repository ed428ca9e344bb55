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

	"software.sslmate.com/src/go-pkcs12"
)

// TestPKIHelpers_RoundTripPEMThroughPKCS12 builds an archive from PEM and
// takes the key and certificate back out, with and without a password.
func TestPKIHelpers_RoundTripPEMThroughPKCS12(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	data := map[string][]byte{"crt": []byte(certPEM), "key": []byte(keyPEM), "pw": []byte("archive-pass")}
	cases := map[string]string{
		"certificate back":         `{{ pemToPkcs12 .crt .key | b64dec | pkcs12cert }}`,
		"certificate, password":    `{{ pemToPkcs12Pass .crt .key .pw | b64dec | pkcs12certPass .pw }}`,
		"key back":                 `{{ pemToPkcs12 .crt .key | b64dec | pkcs12key | filterPEM "PRIVATE KEY" }}`,
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
	_, err := Render("wrong", `{{ pemToPkcs12Pass .crt .key .pw | b64dec | pkcs12keyPass "nope" }}`, data)
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

// TestPKIHelpers_RefuseCostlyArchives checks that an archive asking for
// more KDF iterations than allowed, or too large, is refused before
// go-pkcs12 derives anything, and that the usual encodings pass.
func TestPKIHelpers_RefuseCostlyArchives(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	cb, _ := pem.Decode([]byte(certPEM))
	kb, _ := pem.Decode([]byte(keyPEM))
	cert, _ := x509.ParseCertificate(cb.Bytes)
	key, _ := x509.ParsePKCS8PrivateKey(kb.Bytes)
	encode := func(enc *pkcs12.Encoder) string {
		p12, err := enc.Encode(key, cert, nil, "pw")
		if err != nil {
			t.Fatal(err)
		}
		return string(p12)
	}
	// 65536 iterations encode as the INTEGER 02 03 01 00 00; patch them in
	// place to 8388607 (02 03 7f ff ff), beyond the limit.
	costly := strings.ReplaceAll(encode(pkcs12.Modern2023.WithIterations(65536)), "\x02\x03\x01\x00\x00", "\x02\x03\x7f\xff\xff")
	cases := []struct {
		name, p12, want string
	}{
		{"Modern2023 passes", encode(pkcs12.Modern2023), "-----BEGIN CERTIFICATE-----"},
		{"LegacyRC2 passes", encode(pkcs12.LegacyRC2), "-----BEGIN CERTIFICATE-----"},
		{"LegacyDES passes", encode(pkcs12.LegacyDES), "-----BEGIN CERTIFICATE-----"},
		{"too many iterations", costly, "more KDF iterations than allowed"},
		{"too large", strings.Repeat("x", maxArchive+1), "larger than 32 KiB"},
	}
	for _, c := range cases {
		start := time.Now()
		out, err := Render(c.name, `{{ pkcs12certPass "pw" .p12 }}`, map[string][]byte{"p12": []byte(c.p12)})
		got := string(out)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) || time.Since(start) > 2*time.Second {
			t.Errorf("%s: got %q after %v, want %q", c.name, got, time.Since(start), c.want)
		}
	}
}
