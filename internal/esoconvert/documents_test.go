package esoconvert

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

const pemSecret = `apiVersion: v1
kind: Secret
metadata:
  name: tls # keep this comment
stringData:
  tls.crt: |
    -----BEGIN CERTIFICATE-----
    MIIBszCCAVmgAwIBAgIUQ
    -----END CERTIFICATE-----
  tls.key: |-
    -----BEGIN PRIVATE KEY-----
    MC4CAQAwBQYDK2VwBCIEI
    -----END PRIVATE KEY-----`

const serviceAccount = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}"

const esoStore = `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: vault}
spec: {provider: {vault: {server: "https://bao:8200", auth: {tokenSecretRef: {name: t, key: token}}}}}`

const convertedStore = `apiVersion: baosync.io/v1alpha1
kind: SecretStore
metadata: {name: vault}
spec: {provider: {vault: {server: "https://bao:8200", auth: {tokenSecretRef: {name: t, key: token}}}}}
`

func TestConvert_PassesOtherDocumentsThroughByteForByte(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{{
		name: "a Secret with PEM blocks and no final line break is followed by a marker on a line of its own",
		in:   pemSecret + "\n---\n" + esoStore,
		want: pemSecret + "\n---\n" + convertedStore,
	}, {
		name: "an ESO object before a PEM Secret and a ServiceAccount without line breaks",
		in:   esoStore + "\n---\n" + pemSecret + "\n---\n" + serviceAccount,
		want: convertedStore + "---\n" + pemSecret + "\n---\n" + serviceAccount + "\n",
	}, {
		name: "comments, marker comments and a leading marker are kept",
		in:   "---\n# head comment\n" + serviceAccount + " # trailing\n--- # second\n# only a comment\n",
		want: "# head comment\n" + serviceAccount + " # trailing\n--- # second\n# only a comment\n",
	}, {
		name: "empty documents and white space between markers disappear",
		in:   "---\n---\n\n---   \n" + serviceAccount + "\n---\n\n",
		want: serviceAccount + "\n",
	}, {
		name: "a marker followed by content keeps its line",
		in:   "--- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n--- " + "\n" + serviceAccount,
		want: "--- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n---\n" + serviceAccount + "\n",
	}, {
		name: "CRLF line endings pass unchanged",
		in:   "apiVersion: v1\r\nkind: ConfigMap\r\n---\r\n" + "apiVersion: v1\r\nkind: Secret\r\n",
		want: "apiVersion: v1\r\nkind: ConfigMap\r\n---\n" + "apiVersion: v1\r\nkind: Secret\r\n",
	}, {
		name: "dashes that do not start a line, or are followed by more dashes, do not split",
		in:   "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: |\n    ---\n    x\n  b: ----not-a-marker\n",
		want: "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: |\n    ---\n    x\n  b: ----not-a-marker\n",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			ws, err := Convert(strings.NewReader(tc.in), &out)
			if err != nil || len(ws) != 0 {
				t.Fatalf("err %v, warnings %v", err, ws)
			}
			if out.String() != tc.want {
				t.Fatalf("output:\n%q\nwant:\n%q", out.String(), tc.want)
			}
			mustBeYAMLStream(t, out.Bytes())
		})
	}
}

// mustBeYAMLStream fails unless b is a valid multi-document YAML stream.
func mustBeYAMLStream(t *testing.T, b []byte) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("output is not a YAML stream: %v\n%s", err, b)
		}
	}
}

func TestSplitDocuments_NumbersLines(t *testing.T) {
	docs := splitDocuments([]byte("a: 1\n---\nb: 2\n\n--- # c\nc: 3"))
	if len(docs) != 3 || docs[0].line != 1 || docs[1].line != 2 || docs[2].line != 5 {
		t.Fatalf("documents: %+v", docs)
	}
}
