package template

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"strings"
)

// The PEM helpers ESO templates use, with ESO's semantics. Their inputs are
// bounded by the guard (maxValue); each certificate is parsed once.

// trimJunk drops what precedes the first PEM block, as pem.Decode did
// before Go 1.26 and as ESO does.
func trimJunk(in string) string {
	if i := strings.Index(in, "-----BEGIN"); i >= 0 {
		return in[i:]
	}
	return in
}

// filterPEM keeps the PEM blocks of one type, compared case-insensitively
// (filterPEM "certificate" keeps CERTIFICATE blocks). Input with no PEM
// block at all is an error rather than an empty Secret value; PEM input
// without a block of that type gives "".
func filterPEM(blockType, in string) (string, error) {
	rest := []byte(trimJunk(in))
	var out bytes.Buffer
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.EqualFold(block.Type, blockType) {
			_ = pem.Encode(&out, block)
		}
	}
	if out.Len() == 0 && len(rest) != 0 {
		return "", safeError("filterPEM: the input holds text that is not a PEM block")
	}
	return out.String(), nil
}

// filterCertChain returns one part of a certificate chain: "leaf",
// "intermediate" or "root". The certificates are ordered by their key
// identifiers (a certificate's authority key ID is its issuer's subject key
// ID); nothing is verified. A part the chain does not have gives "".
func filterCertChain(part, in string) (string, error) {
	chain, err := orderChain(in)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	switch part {
	case "leaf":
		if c := chain[0]; c.AuthorityKeyId != nil && !bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId) {
			encodeCert(&out, c)
		}
	case "intermediate":
		for _, c := range chain[1:] {
			if isRoot(c) {
				break
			}
			encodeCert(&out, c)
		}
	case "root":
		if c := chain[len(chain)-1]; isRoot(c) {
			encodeCert(&out, c)
		}
	}
	return out.String(), nil
}

func isRoot(c *x509.Certificate) bool {
	return c.AuthorityKeyId == nil || bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
}

func encodeCert(b *bytes.Buffer, c *x509.Certificate) {
	_ = pem.Encode(b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// orderChain parses every PEM block of in as a certificate and orders them
// leaf first, root last. It fails unless they form one chain.
func orderChain(in string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := []byte(in)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, safeError("filterCertChain: a PEM block is not a certificate")
		}
		certs = append(certs, c)
	}
	parent := make([]int, len(certs))
	isParent := make([]bool, len(certs))
	for i := range certs {
		parent[i] = -1
		for j := range certs {
			// a root has no authority key ID: it must not match a certificate
			// without a subject key ID
			if i != j && len(certs[i].AuthorityKeyId) > 0 && bytes.Equal(certs[i].AuthorityKeyId, certs[j].SubjectKeyId) {
				parent[i], isParent[j] = j, true
				break
			}
		}
	}
	leaf := -1
	for i := range certs {
		if !isParent[i] {
			if leaf >= 0 {
				return nil, safeError("filterCertChain: the certificates form more than one chain")
			}
			leaf = i
		}
	}
	if leaf < 0 {
		return nil, safeError("filterCertChain: no leaf certificate")
	}
	var chain []*x509.Certificate
	for i := leaf; i >= 0; i = parent[i] {
		if len(chain) == len(certs) {
			return nil, safeError("filterCertChain: the certificates form a cycle")
		}
		chain = append(chain, certs[i])
	}
	return chain, nil
}

// certSANs lists the subject alternative names of the first certificate
// of in: DNS names, IP addresses, e-mail addresses, then URIs.
func certSANs(in string) ([]string, error) {
	block, _ := pem.Decode([]byte(trimJunk(in)))
	if block == nil {
		return nil, safeError("certSANs: no PEM certificate in the input")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, safeError("certSANs: the certificate does not parse")
	}
	sans := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	sans = append(sans, c.EmailAddresses...)
	for _, u := range c.URIs {
		sans = append(sans, u.String())
	}
	return sans, nil
}
