package template

import (
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSA-OAEP with SHA-1 is a scheme ESO templates may ask for; it is not used for signing
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"hash"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"sigs.k8s.io/yaml"
)

// esoFuncs are the functions ESO's template engine adds to sprig besides
// the PKI helpers, with ESO's names, argument order and output. Their
// errors are safeError constants: they never quote an argument.
var esoFuncs = map[string]any{
	"toYaml":           toYAML,
	"fromYaml":         fromYAML,
	"hexdec":           hexdec,
	"jwkPublicKeyPem":  jwkPublicKeyPem,
	"jwkPrivateKeyPem": jwkPrivateKeyPem,
	"rsaDecrypt":       rsaDecrypt,
}

// toYAML encodes v as YAML without the final line break; "" when v cannot
// be encoded (as ESO and Helm do).
func toYAML(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// fromYAML decodes a YAML map. A document that is not one gives a map whose
// "Error" key says so, as in ESO; the message here never quotes the input.
func fromYAML(s string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		return map[string]any{"Error": "fromYaml: the input is not a YAML map"}
	}
	return m
}

// hexdec decodes hexadecimal text. Unlike sprig's b64dec, invalid input is
// an error: an error text never ends up in a Secret.
func hexdec(s string) (string, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", safeError("hexdec: the input is not hexadecimal")
	}
	return string(b), nil
}

// jwkPublicKeyPem returns the public key of a JSON Web Key (RSA, EC or
// Ed25519, public or private) as PEM PKIX ("PUBLIC KEY").
func jwkPublicKeyPem(jwk string) (string, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil {
		return "", safeError("jwkPublicKeyPem: the input is not a JSON Web Key")
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public().Key)
	if err != nil {
		return "", safeError("jwkPublicKeyPem: unsupported key type")
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// jwkPrivateKeyPem returns the private key of a JSON Web Key as PEM PKCS#8
// ("PRIVATE KEY").
func jwkPrivateKeyPem(jwk string) (string, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil {
		return "", safeError("jwkPrivateKeyPem: the input is not a JSON Web Key")
	}
	if k.IsPublic() {
		return "", safeError("jwkPrivateKeyPem: the key holds no private part")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return "", safeError("jwkPrivateKeyPem: unsupported key type")
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// rsaDecrypt decrypts in (raw bytes: b64dec first) with a PEM RSA private
// key: scheme "RSA-OAEP" with hash "SHA1", "SHA256" (also "None" and any
// other) or "SHA512", or scheme "None", which returns in unchanged.
func rsaDecrypt(scheme, hashName, in, keyPEM string) (string, error) {
	switch scheme {
	case "None":
		return in, nil
	case "RSA-OAEP":
	default:
		return "", safeError("rsaDecrypt: the scheme is not RSA-OAEP or None")
	}
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return "", safeError("rsaDecrypt: no PEM key in the fourth argument")
	}
	key, err := parseKey(block.Bytes)
	if err != nil {
		return "", safeError("rsaDecrypt: the key is not PKCS#8, PKCS#1 or EC")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return "", safeError("rsaDecrypt: the key is not an RSA key")
	}
	out, err := rsa.DecryptOAEP(oaepHash(hashName), nil, rk, []byte(in), nil)
	if err != nil {
		return "", safeError("rsaDecrypt: decryption failed (wrong key, hash or input)")
	}
	return string(out), nil
}

func oaepHash(name string) hash.Hash {
	switch name {
	case "SHA1":
		return sha1.New() //nolint:gosec // see the import
	case "SHA512":
		return sha512.New()
	default:
		return sha256.New()
	}
}
