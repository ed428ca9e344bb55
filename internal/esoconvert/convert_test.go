package esoconvert

import (
	"bytes"
	"strings"
	"testing"
)

// convertCase is one conversion: substrings the output must (not) hold and
// the warnings it must give, in order.
type convertCase struct {
	name     string
	in       string
	out      []string // substrings of the output
	notOut   []string
	warnings []string // substrings, one per expected warning
	failed   int      // how many of the warnings refuse the object
}

func TestConvert(t *testing.T) {
	cases := []convertCase{{
		name: "changes the apiVersion of a Vault store and keeps its fields",
		in: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: s}
spec: {provider: {vault: {server: "https://bao:8200", path: secret, auth: {tokenSecretRef: {name: t, key: token}}}}}`,
		out: []string{"apiVersion: baosync.io/v1alpha1", `server: "https://bao:8200"`, "tokenSecretRef:"},
	}, {
		name: "skips a store of another provider, with a warning",
		in: `apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata: {name: aws}
spec: {provider: {aws: {service: SecretsManager}}}`,
		notOut:   []string{"aws"},
		warnings: []string{"ClusterSecretStore aws: provider aws is not OpenBao/Vault; skipped"},
	}, {
		name: "points a generatorRef at baosync's generator of the same kind",
		in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e, namespace: team}
spec:
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: a, property: p, conversionStrategy: Default}}]
  dataFrom: [{sourceRef: {generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: Password, name: pw}}}]`,
		out:    []string{"secretKey: k", "generatorRef: {apiVersion: baosync.io/v1alpha1, kind: Password, name: pw}"},
		notOut: []string{"external-secrets"},
	}, {
		name: "refuses a generatorRef to a kind baosync lacks",
		in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  dataFrom: [{sourceRef: {generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: ECRAuthorizationToken, name: ecr}}}]`,
		warnings: []string{"field spec.dataFrom[0].sourceRef.generatorRef.kind: baosync has no ECRAuthorizationToken generator"},
		failed:   1,
	}, {
		name: "moves a v1 template to v2 and says so",
		in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec: {secretStoreRef: {name: s}, data: [{secretKey: k, remoteRef: {key: a}}], target: {template: {engineVersion: v1}}}`,
		out:      []string{"engineVersion: v2"},
		warnings: []string{"template engineVersion v1 is not supported"},
	}, {
		name: "converts a PushSecret",
		in: `apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: p}
spec:
  secretStoreRefs: [{name: vault, kind: SecretStore}]
  selector: {secret: {name: src}}
  updatePolicy: IfNotExists
  data: [{match: {secretKey: pw, remoteRef: {remoteKey: app/db, property: password}}}]`,
		out: []string{"kind: PushSecret", "remoteKey: app/db", "updatePolicy: IfNotExists"},
	}, {
		name: "reports kinds baosync does not have",
		in: `apiVersion: generators.external-secrets.io/v1alpha1
kind: ECRAuthorizationToken
metadata: {name: ecr}`,
		notOut:   []string{"ECR"},
		warnings: []string{"ECRAuthorizationToken ecr: kind ECRAuthorizationToken (generators.external-secrets.io/v1alpha1) has no baosync equivalent; skipped"},
	}, {
		name: "converts ESO's generators baosync has",
		in: `apiVersion: generators.external-secrets.io/v1alpha1
kind: Password
metadata: {name: pw}
spec: {length: 32, digits: 5, symbols: 5, noUpper: false, allowRepeat: true}
---
apiVersion: generators.external-secrets.io/v1alpha1
kind: ClusterGenerator
metadata: {name: ids}
spec: {kind: UUID, generator: {uuidSpec: {}}}`,
		out: []string{"apiVersion: baosync.io/v1alpha1\nkind: Password", "length: 32", "kind: ClusterGenerator"},
	}, {
		name: "converts a ClusterExternalSecret",
		in: `apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: shared}
spec:
  namespaceSelectors: [{matchLabels: {team: a}}]
  refreshTime: 1m
  externalSecretSpec: {secretStoreRef: {name: s, kind: ClusterSecretStore}, data: [{secretKey: k, remoteRef: {key: a}}]}`,
		out: []string{"kind: ClusterExternalSecret", "refreshTime: 1m\n", "team: a"},
	}, {
		name: "refuses, with the field and the rule, what baosync's API server would refuse",
		in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: fast}
spec:
  refreshInterval: 500ms
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: a}}, {secretKey: k, remoteRef: {key: b}}]`,
		notOut: []string{"fast"},
		warnings: []string{
			"ExternalSecret fast: the API server would refuse the converted object: spec.data: Invalid value: each secretKey may appear only once in data; not converted",
			"ExternalSecret fast: the API server would refuse the converted object: spec.refreshInterval: Invalid value: refreshInterval must be 0 (read once) or at least 1s; not converted"},
		failed: 2,
	}, {
		name: "passes other documents through",
		in: `apiVersion: v1
kind: ConfigMap
metadata: {name: c}`,
		out: []string{"kind: ConfigMap"},
	}}
	cases = append(cases, renameCases...)
	cases = append(cases, defaultCases...)
	cases = append(cases, unsupportedCases...)
	cases = append(cases, v29Refusals...)
	cases = append(cases, referentCases...)
	cases = append(cases, getParameterCases...)
	cases = append(cases, vaultRoleCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			ws, err := Convert(strings.NewReader("---\n"+tc.in+"\n"), &out)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.notOut {
				if strings.Contains(out.String(), s) {
					t.Errorf("output has %q:\n%s", s, out.String())
				}
			}
			failed := 0
			for _, w := range ws {
				if w.Failed {
					failed++
				}
			}
			if failed != tc.failed {
				t.Errorf("%d refusals, want %d: %v", failed, tc.failed, ws)
			}
			mustBeYAMLStream(t, out.Bytes())
			if len(ws) != len(tc.warnings) {
				t.Fatalf("warnings %v, want %d", ws, len(tc.warnings))
			}
			for i, s := range tc.warnings {
				if !strings.Contains(ws[i].String(), s) {
					t.Errorf("warning %q lacks %q", ws[i], s)
				}
			}
		})
	}
}

func FuzzConvert(f *testing.F) {
	f.Add("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nspec: {data: 5}")
	f.Add("---\n---\n: :")
	f.Add("apiVersion: v1\nkind: Secret\nstringData:\n  a: |\n    -----BEGIN X-----\n---\n# c\n--- {a: b}\n")
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		if _, err := Convert(strings.NewReader(in), &out); err != nil {
			t.Fatal(err)
		}
		mustBeYAMLStream(t, out.Bytes()) // whatever the input
	})
}

func TestObject_ConvertsOneObjectOrSaysWhyNot(t *testing.T) {
	cases := []struct {
		name, in, want string
		skipped        bool
		warning        string
	}{
		{name: "an ExternalSecret", in: "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {secretStoreRef: {name: s}, data: [{secretKey: k, remoteRef: {key: a}}]}\n",
			want: "apiVersion: baosync.io/v1alpha1"},
		{name: "another provider is skipped", in: "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: a}\nspec: {provider: {aws: {region: x}}}\n",
			skipped: true, warning: "provider aws"},
		{name: "a generator kind baosync lacks fails", in: "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {dataFrom: [{sourceRef: {generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: Fake, name: f}}}]}\n",
			warning: "Fake"},
		{name: "not ESO", in: "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n", warning: "not an External Secrets Operator object"},
		{name: "not YAML", in: ": : :", warning: "not valid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, warnings, skipped := Object([]byte(tc.in))
			if skipped != tc.skipped || !strings.Contains(string(out), tc.want) || (tc.want == "") != (out == nil) {
				t.Fatalf("Object = %q, skipped %v, warnings %v", out, skipped, warnings)
			}
			if tc.warning != "" && (len(warnings) == 0 || !strings.Contains(warnings[0].Message, tc.warning)) {
				t.Errorf("warnings %v lack %q", warnings, tc.warning)
			}
		})
	}
}
