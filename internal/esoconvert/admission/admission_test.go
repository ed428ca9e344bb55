package admission

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // substrings, one per expected problem; none for a valid object
	}{
		{name: "a valid ExternalSecret passes, defaults applied", doc: `
apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: app}
spec:
  secretStoreRef: {name: vault}
  data: [{secretKey: k, remoteRef: {key: app, property: k}}]`},
		{name: "a generator-only ExternalSecret needs no store", doc: `
apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: app}
spec:
  dataFrom: [{sourceRef: {generatorRef: {kind: Password, name: pw}}}]`},
		{name: "a CEL rule on the spec is enforced", doc: `
apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: app}
spec:
  data: [{secretKey: k, remoteRef: {key: app}}]`, want: []string{"secretStoreRef is required unless"}},
		{name: "a schema rule is enforced, without the value", doc: `
apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: app}
spec:
  secretStoreRef: {name: vault}
  refreshPolicy: Sometimes-hunter2
  data: [{secretKey: k, remoteRef: {key: app}}]`, want: []string{"spec.refreshPolicy: Unsupported value"}},
		{name: "an unknown field is refused as kubectl's strict validation does", doc: `
apiVersion: baosync.io/v1alpha1
kind: SecretStore
metadata: {name: vault}
spec:
  provider: {vault: {server: "https://bao.example.com", auth: {tokenSecretRef: {name: t, key: token}}, retrySettings: {maxRetries: 3}}}`,
			want: []string{"spec.provider.vault.retrySettings: unknown field"}},
		{name: "a missing name is refused", doc: `
apiVersion: baosync.io/v1alpha1
kind: UUID
metadata: {}`, want: []string{"metadata.name: Required value"}},
		{name: "a name the API server would refuse is refused", doc: `
apiVersion: baosync.io/v1alpha1
kind: UUID
metadata: {name: Not_A_Name}`, want: []string{"metadata.name: Invalid value: a lowercase RFC 1123 subdomain"}},
		{name: "a kind baosync does not define is refused", doc: `
apiVersion: baosync.io/v1alpha1
kind: ECRAuthorizationToken
metadata: {name: x}`, want: []string{"not a kind baosync defines"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			problems, err := Check(context.Background(), []byte(strings.TrimSpace(tc.doc)))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(problems).To(HaveLen(len(tc.want)), "%v", problems)
			for i, w := range tc.want {
				g.Expect(problems[i]).To(ContainSubstring(w))
				g.Expect(problems[i]).NotTo(ContainSubstring("hunter2"), "a problem never quotes the value")
			}
		})
	}
}
