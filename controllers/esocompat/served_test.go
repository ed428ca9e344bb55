package esocompat

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDecidingRef_TheStoreRefElseTheFirstEntryWithAStore(t *testing.T) {
	cases := []struct {
		name, spec string
		want       storeRef
	}{
		{"secretStoreRef decides", `{spec: {secretStoreRef: {name: a, kind: ClusterSecretStore}, data: [{sourceRef: {storeRef: {name: b}}}]}}`,
			storeRef{kind: "ClusterSecretStore", name: "a"}},
		{"without it, the first data entry with a store", `{spec: {data: [{remoteRef: {key: k}}, {sourceRef: {storeRef: {name: b}}}], dataFrom: [{sourceRef: {storeRef: {name: c}}}]}}`,
			storeRef{name: "b"}},
		{"then dataFrom", `{spec: {dataFrom: [{sourceRef: {generatorRef: {name: pw}}}, {sourceRef: {storeRef: {name: c, kind: SecretStore}}}]}}`,
			storeRef{kind: "SecretStore", name: "c"}},
		{"generators only: none", `{spec: {dataFrom: [{sourceRef: {generatorRef: {name: pw}}}]}}`, storeRef{}},
		{"garbage is none, not a panic", `{spec: {secretStoreRef: 7, data: "x", dataFrom: [3]}}`, storeRef{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := decidingRef(decode(t, tc.spec).Object, "spec"); got != tc.want {
				t.Errorf("decidingRef = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestServesStore_ItsClassAndAVaultOrOpenBaoProvider(t *testing.T) {
	cases := []struct {
		name, class, store string
		want               bool
	}{
		{"vault, no class", "", `{spec: {provider: {vault: {server: x}}}}`, true},
		{"openbao, no class", "", `{spec: {provider: {openbao: {server: x}}}}`, true},
		{"another class", "", `{spec: {controller: eso, provider: {vault: {server: x}}}}`, false},
		{"the served class", "baosync", `{spec: {controller: baosync, provider: {vault: {server: x}}}}`, true},
		{"the served class is not the empty one", "baosync", `{spec: {provider: {vault: {server: x}}}}`, false},
		{"another provider", "", `{spec: {provider: {aws: {region: x}}}}`, false},
		{"no provider", "", `{spec: {}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reconciler{Class: tc.class}
			if got := r.servesStore(decode(t, tc.store)); got != tc.want {
				t.Errorf("servesStore = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNames_AnObjectNamesTheStoresItUses(t *testing.T) {
	es := decode(t, `{kind: ExternalSecret, spec: {secretStoreRef: {name: vault}}}`)
	ps := decode(t, `{kind: PushSecret, spec: {secretStoreRefs: [{name: a}, {name: vault, kind: ClusterSecretStore}]}}`)
	cases := []struct {
		name       string
		obj        *unstructured.Unstructured
		kind, what string
		want       bool
	}{
		{"a SecretStore by default", es, "SecretStore", "vault", true},
		{"not a ClusterSecretStore of the same name", es, "ClusterSecretStore", "vault", false},
		{"a PushSecret's second store", ps, "ClusterSecretStore", "vault", true},
		{"a store a PushSecret does not name", ps, "SecretStore", "vault", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.obj, tc.kind, tc.what); got != tc.want {
				t.Errorf("names = %v, want %v", got, tc.want)
			}
		})
	}
}
