package template

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"

	"software.sslmate.com/src/go-pkcs12"
)

// Bounds of the PKI helpers' inputs.
const (
	// maxArchive bounds a PKCS#12 archive and a PEM certificate chain.
	maxArchive = 32 << 10
	// maxKeyPEM bounds a PEM private key: an RSA-16384 key takes 12.6 KiB.
	maxKeyPEM = 16 << 10
	// maxIterations bounds each KDF iteration count of an archive (the
	// limit of .NET), maxTotalIterations their sum.
	maxIterations      = 600_000
	maxTotalIterations = 2 * maxIterations
	// maxDER bounds the nesting checkPKCS12 walks; real archives nest 17 deep.
	maxDER = 32
)

// pkiFuncs are the PKCS#12 and PEM helpers ESO templates use, with ESO's
// argument order and output encoding: archives read by pkcs12key/cert are
// raw bytes as strings (b64dec first), archives built by pemToPkcs12 and
// its siblings are base64 text (b64dec after), as in ESO. Their errors are
// safeError constants: they never include the input, and reach the user.
//
// Their inputs are bounded before any parsing: RSA key validation costs the
// square of the key size, and a PKCS#12 archive sets its own KDF iteration
// counts (see checkPKCS12).
var pkiFuncs = map[string]any{
	"pkcs12key":      func(p12 string) (string, error) { return pkcs12Key(p12, "") },
	"pkcs12keyPass":  func(pass, p12 string) (string, error) { return pkcs12Key(p12, pass) },
	"pkcs12cert":     func(p12 string) (string, error) { return pkcs12Certs(p12, "") },
	"pkcs12certPass": func(pass, p12 string) (string, error) { return pkcs12Certs(p12, pass) },
	"pemToPkcs12": func(cert, key string) (string, error) {
		return pemToPkcs12("pemToPkcs12", cert, key, "", false)
	},
	"pemToPkcs12Pass": func(cert, key, pass string) (string, error) {
		return pemToPkcs12("pemToPkcs12Pass", cert, key, pass, false)
	},
	"fullPemToPkcs12": func(cert, key string) (string, error) {
		return pemToPkcs12("fullPemToPkcs12", cert, key, "", true)
	},
	"fullPemToPkcs12Pass": func(cert, key, pass string) (string, error) {
		return pemToPkcs12("fullPemToPkcs12Pass", cert, key, pass, true)
	},
	"pemTruststoreToPKCS12":     func(cert string) (string, error) { return pemTruststoreToPkcs12(cert, "") },
	"pemTruststoreToPKCS12Pass": pemTruststoreToPkcs12,
	"filterPEM":                 filterPEM,
	"filterCertChain":           filterCertChain,
	"certSANs":                  certSANs,
}

// pkcs12Key returns the private key of a PKCS#12 archive as PEM (PKCS#8).
func pkcs12Key(p12, pass string) (string, error) {
	if err := checkPKCS12([]byte(p12)); err != nil {
		return "", err
	}
	key, _, _, err := pkcs12.DecodeChain([]byte(p12), pass)
	if err != nil {
		return "", safeError("pkcs12key: cannot decode the archive (wrong password or not PKCS#12)")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", safeError("pkcs12key: unsupported key type")
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// pkcs12Certs returns the leaf certificate and chain of a PKCS#12 archive as PEM.
func pkcs12Certs(p12, pass string) (string, error) {
	if err := checkPKCS12([]byte(p12)); err != nil {
		return "", err
	}
	_, leaf, chain, err := pkcs12.DecodeChain([]byte(p12), pass)
	if err != nil {
		return "", safeError("pkcs12cert: cannot decode the archive (wrong password or not PKCS#12)")
	}
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{leaf}, chain...) {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.String(), nil
}

// pemToPkcs12 builds a PKCS#12 archive from the first PEM certificate of
// certPEM and the first PEM block of keyPEM. With chain, the other
// certificates of certPEM go into the archive too (fullPemToPkcs12). The
// archive is returned base64-encoded, as ESO does, so that ESO's documented
// `pemToPkcs12 … | b64dec` works unchanged.
func pemToPkcs12(name, certPEM, keyPEM, pass string, chain bool) (string, error) {
	if len(certPEM) > maxArchive || len(keyPEM) > maxKeyPEM {
		return "", safeError(name + ": the certificates or the key are too large")
	}
	certs, err := parseCerts(name, certPEM)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return "", safeError(name + ": no PEM key in the second argument")
	}
	key, err := parseKey(block.Bytes)
	if err != nil {
		return "", err
	}
	var cas []*x509.Certificate
	if chain {
		cas = certs[1:]
	}
	out, err := pkcs12.Modern.Encode(key, certs[0], cas, pass)
	if err != nil {
		return "", safeError(name + ": the key does not suit the certificate or cannot be encoded")
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// pemTruststoreToPkcs12 builds a PKCS#12 trust store (certificates only,
// no key) from every PEM certificate of certPEM, base64-encoded like ESO.
func pemTruststoreToPkcs12(certPEM, pass string) (string, error) {
	const name = "pemTruststoreToPKCS12"
	if len(certPEM) > maxArchive {
		return "", safeError(name + ": the certificates are too large")
	}
	certs, err := parseCerts(name, certPEM)
	if err != nil {
		return "", err
	}
	out, err := pkcs12.Modern.EncodeTrustStore(certs, pass)
	if err != nil {
		return "", safeError(name + ": the certificates cannot be encoded")
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// parseCerts parses the PEM certificates of in, in order, ignoring other
// blocks; it fails when there is none or one does not parse.
func parseCerts(name, in string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := []byte(in)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, safeError(name + ": a certificate does not parse")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, safeError(name + ": no PEM certificate in the first argument")
	}
	return certs, nil
}

func parseKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, safeError("the key is not PKCS#8, PKCS#1 or EC")
}

// checkPKCS12 bounds the work of decoding an archive. Its KDF iteration
// counts are integers of the file: a 1 KB archive can ask for 2^62
// iterations and pin a worker for ever (SSLMate/go-pkcs12#80). The counts
// readable before decryption are checked: the MAC's, each encrypted safe's,
// each key bag's outside an encrypted safe. A key bag inside an encrypted
// safe is not readable until go-pkcs12 decrypts it, and go-pkcs12 has no
// hook: that count stays unbounded until go-pkcs12 bounds it
// (SSLMate/go-pkcs12#81).
func checkPKCS12(der []byte) error {
	if len(der) > maxArchive {
		return safeError("pkcs12: the archive is larger than 32 KiB")
	}
	total := 0
	if !scanIterations(der, 0, &total) || total > maxTotalIterations {
		return safeError("pkcs12: the archive asks for more KDF iterations than allowed (600000 each, 1200000 in all)")
	}
	return nil
}

// scanIterations walks the DER elements of b, and the DER inside OCTET
// STRINGs, adding to total every INTEGER that follows an OCTET STRING among
// siblings: the shape of PBE parameters (salt, iterations), of PBKDF2
// parameters and of MacData (digest, salt, iterations). It reports false for
// a count above maxIterations. A level that is not DER throughout (an
// encrypted blob) is skipped: go-pkcs12 rejects what it cannot parse.
func scanIterations(b []byte, depth int, total *int) bool {
	if depth > maxDER {
		return false
	}
	var elems []asn1.RawValue
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return true
		}
		elems, b = append(elems, v), rest
	}
	for i, v := range elems {
		if i > 0 && isUniversal(v, asn1.TagInteger) && isUniversal(elems[i-1], asn1.TagOctetString) {
			if len(v.Bytes) > 4 || count(v.Bytes) > maxIterations {
				return false
			}
			*total += count(v.Bytes)
		}
		if (v.IsCompound || isUniversal(v, asn1.TagOctetString)) && !scanIterations(v.Bytes, depth+1, total) {
			return false
		}
	}
	return true
}

func isUniversal(v asn1.RawValue, tag int) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == tag
}

// count reads a DER INTEGER of at most 4 bytes; a negative one counts 0
// (go-pkcs12 then iterates once).
func count(b []byte) int {
	if len(b) == 0 || b[0]&0x80 != 0 {
		return 0
	}
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n
}
