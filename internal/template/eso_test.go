package template

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// chain is a root CA, an intermediate CA and a leaf with every kind of SAN,
// as PEM, and the leaf's key.
type chain struct {
	root, intermediate, leaf, leafKey string
}

func newChain(t *testing.T) chain {
	t.Helper()
	issue := func(tmpl, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, *ecdsa.PrivateKey, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	ca := func(n int64, cn string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: cn}, IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	root, rootKey, rootPEM := issue(ca(1, "root"), nil, nil)
	inter, interKey, interPEM := issue(ca(2, "intermediate"), root, rootKey)
	u, _ := url.Parse("https://example.com")
	_, leafKey, leafPEM := issue(&x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "leaf"},
		DNSNames: []string{"example.com", "www.example.com"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")},
		EmailAddresses: []string{"admin@example.com"}, URIs: []*url.URL{u}}, inter, interKey)
	kder, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	return chain{root: rootPEM, intermediate: interPEM, leaf: leafPEM,
		leafKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))}
}

// renderCase is one template over data: its output, or an error holding want.
type renderCase struct {
	name, text string
	want       string
	wantErr    string
}

func runRenderCases(t *testing.T, data map[string][]byte, cases []renderCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Render(tc.name, tc.text, data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q (output %q)", err, tc.wantErr, out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got %q, want %q", out, tc.want)
			}
		})
	}
}

func TestPEMFunctions_MatchESO(t *testing.T) {
	c := newChain(t)
	data := map[string][]byte{
		"full": []byte(c.leaf + c.intermediate + c.root), "leaf": []byte(c.leaf), "root": []byte(c.root), "intermediate": []byte(c.intermediate),
		"noRoot": []byte(c.leaf + c.intermediate), "mixed": []byte(c.leafKey + c.leaf),
		"junk": []byte("not pem at all"), "key": []byte(c.leafKey),
	}
	runRenderCases(t, data, []renderCase{
		{name: "filterPEM matches the type whatever its case", text: `{{ filterPEM "certificate" .mixed }}`, want: c.leaf},
		{name: "filterPEM skips text before the first block", text: `{{ printf "junk\n%s" .leaf | filterPEM "CERTIFICATE" }}`, want: c.leaf},
		{name: "filterPEM refuses input that is not PEM", text: `{{ filterPEM "CERTIFICATE" .junk }}`, wantErr: "filterPEM: the input holds text that is not a PEM block"},
		{name: "filterPEM gives nothing for PEM without that type", text: `{{ filterPEM "CERTIFICATE" .key }}`, want: ""},
		{name: "filterCertChain leaf", text: `{{ filterCertChain "leaf" .full }}`, want: c.leaf},
		{name: "filterCertChain intermediate", text: `{{ filterCertChain "intermediate" .full }}`, want: c.intermediate},
		{name: "filterCertChain intermediate without the root", text: `{{ filterCertChain "intermediate" .noRoot }}`, want: c.intermediate},
		{name: "filterCertChain root", text: `{{ filterCertChain "root" .full }}`, want: c.root},
		{name: "filterCertChain orders an unordered chain", text: `{{ printf "%s%s%s" .root .leaf .intermediate | filterCertChain "leaf" }}`, want: c.leaf},
		{name: "filterCertChain root of a chain without one is empty", text: `{{ filterCertChain "root" .noRoot }}`, want: ""},
		{name: "filterCertChain leaf of a root alone is empty", text: `{{ filterCertChain "leaf" .root }}`, want: ""},
		{name: "filterCertChain refuses a key in the chain", text: `{{ filterCertChain "leaf" .mixed }}`, wantErr: "a PEM block is not a certificate"},
		{name: "filterCertChain refuses empty input", text: `{{ filterCertChain "leaf" "" }}`, wantErr: "no leaf certificate"},
		{name: "certSANs lists DNS, IP, e-mail and URI names in ESO's order", text: `{{ certSANs .full | join "," }}`,
			want: "example.com,www.example.com,10.0.0.1,admin@example.com,https://example.com"},
		{name: "certSANs refuses input that is not PEM", text: `{{ certSANs .junk }}`, wantErr: "certSANs: no PEM certificate"},
	})
}

func TestPKCS12Functions_ReturnBase64LikeESO(t *testing.T) {
	c := newChain(t)
	data := map[string][]byte{"chain": []byte(c.leaf + c.intermediate + c.root), "key": []byte(c.leafKey), "pw": []byte("changeit")}
	decode := func(t *testing.T, text, pass string) (any, *x509.Certificate, []*x509.Certificate) {
		t.Helper()
		out, err := Render("p12", text, data)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(string(out))
		if err != nil {
			t.Fatalf("the archive is not base64 text: %v", err)
		}
		key, cert, cas, err := pkcs12.DecodeChain(raw, pass)
		if err != nil {
			t.Fatal(err)
		}
		return key, cert, cas
	}
	t.Run("pemToPkcs12 holds the first certificate and the key", func(t *testing.T) {
		key, cert, cas := decode(t, `{{ pemToPkcs12 .chain .key }}`, "")
		if key == nil || cert.Subject.CommonName != "leaf" || len(cas) != 0 {
			t.Fatalf("key %v, cert %s, %d CAs", key != nil, cert.Subject.CommonName, len(cas))
		}
	})
	t.Run("fullPemToPkcs12Pass holds the chain too", func(t *testing.T) {
		_, cert, cas := decode(t, `{{ fullPemToPkcs12Pass .chain .key .pw }}`, "changeit")
		if cert.Subject.CommonName != "leaf" || len(cas) != 2 {
			t.Fatalf("cert %s, %d CAs", cert.Subject.CommonName, len(cas))
		}
	})
	t.Run("pemTruststoreToPKCS12Pass holds every certificate and no key", func(t *testing.T) {
		out, err := Render("ts", `{{ pemTruststoreToPKCS12Pass .chain .pw }}`, data)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(string(out))
		certs, err := pkcs12.DecodeTrustStore(raw, "changeit")
		if err != nil || len(certs) != 3 {
			t.Fatalf("%d certificates, %v", len(certs), err)
		}
	})
	runRenderCases(t, data, []renderCase{
		{name: "ESO's documented b64dec pipeline yields the archive", text: `{{ fullPemToPkcs12 .chain .key | b64dec | pkcs12cert | filterCertChain "root" }}`, want: c.root},
		{name: "pemTruststoreToPKCS12 refuses input without a certificate", text: `{{ pemTruststoreToPKCS12 .key }}`, wantErr: "no PEM certificate"},
		{name: "fullPemToPkcs12 refuses a key that is not PEM", text: `{{ fullPemToPkcs12 .chain "x" }}`, wantErr: "no PEM key"},
	})
}

func TestESOFunctions(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	kder, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	jwkPriv, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "k"})
	jwkPub, _ := json.Marshal(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "k"})
	cipher256, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &rsaKey.PublicKey, []byte("decrypted-value"), nil)
	data := map[string][]byte{
		"key": []byte(keyPEM), "jwk": jwkPriv, "jwkPub": jwkPub,
		"enc":  []byte(base64.StdEncoding.EncodeToString(cipher256)),
		"yaml": []byte("a: 1\nb: [x, z]\n"), "hex": []byte("68656c6c6f"),
	}
	runRenderCases(t, data, []renderCase{
		{name: "toYaml encodes without the final line break", text: `{{ dict "b" (list 1 2) "a" "x" | toYaml }}`, want: "a: x\nb:\n- 1\n- 2"},
		{name: "fromYaml decodes a map", text: `{{ (fromYaml .yaml).b | join "+" }}`, want: "x+z"},
		{name: "fromYaml reports a non-map under Error without quoting it", text: `{{ (fromYaml "- secret-text").Error }}`, want: "fromYaml: the input is not a YAML map"},
		{name: "hexdec decodes", text: `{{ hexdec .hex }}`, want: "hello"},
		{name: "hexdec refuses what is not hexadecimal", text: `{{ hexdec "zz" }}`, wantErr: "hexdec: the input is not hexadecimal"},
		{name: "jwkPublicKeyPem of a private JWK", text: `{{ jwkPublicKeyPem .jwk }}`, want: pubPEM},
		{name: "jwkPublicKeyPem of a public JWK", text: `{{ jwkPublicKeyPem .jwkPub }}`, want: pubPEM},
		{name: "jwkPrivateKeyPem", text: `{{ jwkPrivateKeyPem .jwk }}`, want: keyPEM},
		{name: "jwkPrivateKeyPem refuses a public JWK", text: `{{ jwkPrivateKeyPem .jwkPub }}`, wantErr: "holds no private part"},
		{name: "jwkPublicKeyPem refuses what is not a JWK", text: `{{ jwkPublicKeyPem "{}" }}`, wantErr: "not a JSON Web Key"},
		{name: "rsaDecrypt RSA-OAEP SHA256", text: `{{ rsaDecrypt "RSA-OAEP" "SHA256" (b64dec .enc) .key }}`, want: "decrypted-value"},
		{name: "rsaDecrypt None returns the input", text: `{{ rsaDecrypt "None" "SHA256" "plain" .key }}`, want: "plain"},
		{name: "rsaDecrypt with the wrong hash fails without the value", text: `{{ rsaDecrypt "RSA-OAEP" "SHA512" (b64dec .enc) .key }}`, wantErr: "rsaDecrypt: decryption failed"},
		{name: "rsaDecrypt refuses another scheme", text: `{{ rsaDecrypt "RSA-PKCS1" "SHA256" "x" .key }}`, wantErr: "not RSA-OAEP or None"},
	})
}

func TestESOFunctions_CountAgainstTheExpensiveBudget(t *testing.T) {
	c := newChain(t)
	data := map[string][]byte{"chain": []byte(c.leaf), "key": []byte(c.leafKey)}
	text := strings.Repeat(`{{ fullPemToPkcs12 .chain .key | len }}`, maxExpensive+1)
	if _, err := Render("many", text, data); err == nil || !strings.Contains(err.Error(), "expensive") {
		t.Fatalf("%d archives in one evaluation: got %v, want the expensive budget error", maxExpensive+1, err)
	}
}

func TestUnknownFunctions_ListsWhatTemplatesLack(t *testing.T) {
	cases := map[string][]string{
		`{{ .a | b64dec | toYaml }}`:                 nil,
		`{{ .a | getSecretKey }} {{ nope .b }}`:      {"getSecretKey", "nope"},
		`{{ if .a }}{{ nope2 }}{{ end }}{{ nope1 }}`: {"nope1", "nope2"},
		`{{ if }}`: nil,
	}
	for text, want := range cases {
		if got := UnknownFunctions(text); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: got %v, want %v", text, got, want)
		}
	}
}
