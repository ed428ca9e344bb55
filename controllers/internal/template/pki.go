package template

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// pkiFuncs are the PKCS#12 and PEM helpers ESO templates use. Inputs and
// outputs are raw bytes as strings (b64dec/b64enc convert). Their errors never
// include the input.
var pkiFuncs = map[string]any{
	"pkcs12key":       func(p12 string) (string, error) { return pkcs12Key(p12, "") },
	"pkcs12keyPass":   func(pass, p12 string) (string, error) { return pkcs12Key(p12, pass) },
	"pkcs12cert":      func(p12 string) (string, error) { return pkcs12Certs(p12, "") },
	"pkcs12certPass":  func(pass, p12 string) (string, error) { return pkcs12Certs(p12, pass) },
	"pemToPkcs12":     func(cert, key string) (string, error) { return pemToPkcs12(cert, key, "") },
	"pemToPkcs12Pass": func(cert, key, pass string) (string, error) { return pemToPkcs12(cert, key, pass) },
	"filterPEM":       filterPEM,
}

// pkcs12Key returns the private key of a PKCS#12 archive as PEM (PKCS#8).
func pkcs12Key(p12, pass string) (string, error) {
	key, _, _, err := pkcs12.DecodeChain([]byte(p12), pass)
	if err != nil {
		return "", fmt.Errorf("pkcs12key: cannot decode the archive (wrong password or not PKCS#12): %w", errors.Unwrap(err))
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("pkcs12key: unsupported key type")
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// pkcs12Certs returns the leaf certificate and chain of a PKCS#12 archive as PEM.
func pkcs12Certs(p12, pass string) (string, error) {
	_, leaf, chain, err := pkcs12.DecodeChain([]byte(p12), pass)
	if err != nil {
		return "", fmt.Errorf("pkcs12cert: cannot decode the archive (wrong password or not PKCS#12): %w", errors.Unwrap(err))
	}
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{leaf}, chain...) {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.String(), nil
}

// pemToPkcs12 builds a PKCS#12 archive from a PEM certificate (chain) and key.
func pemToPkcs12(certPEM, keyPEM, pass string) (string, error) {
	var certs []*x509.Certificate
	rest := []byte(certPEM)
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
			return "", fmt.Errorf("pemToPkcs12: a certificate does not parse")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return "", fmt.Errorf("pemToPkcs12: no certificate in the first argument")
	}
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return "", fmt.Errorf("pemToPkcs12: no PEM key in the second argument")
	}
	key, err := parseKey(block.Bytes)
	if err != nil {
		return "", err
	}
	out, err := pkcs12.Modern.Encode(key, certs[0], certs[1:], pass)
	if err != nil {
		return "", fmt.Errorf("pemToPkcs12: encode: %w", err)
	}
	return string(out), nil
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
	return nil, fmt.Errorf("pemToPkcs12: the key is not PKCS#8, PKCS#1 or EC")
}

// filterPEM keeps the PEM blocks of one type, e.g. filterPEM "CERTIFICATE".
func filterPEM(blockType, in string) string {
	var b bytes.Buffer
	rest := []byte(in)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return b.String()
		}
		if block.Type == blockType {
			_ = pem.Encode(&b, block)
		}
	}
}
