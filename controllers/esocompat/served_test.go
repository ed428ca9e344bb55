package esocompat

import (
	"context"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
)

func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestStoreRefs_EveryStoreAnExternalSecretNames(t *testing.T) {
	cases := []struct {
		name, spec string
		want       []storeRef
	}{
		{"secretStoreRef and each entry's store", `{spec: {secretStoreRef: {name: a, kind: ClusterSecretStore}, data: [{remoteRef: {key: k}}, {sourceRef: {storeRef: {name: b}}}], dataFrom: [{sourceRef: {storeRef: {name: c, kind: SecretStore}}}]}}`,
			[]storeRef{{kind: "ClusterSecretStore", name: "a"}, {name: "b"}, {kind: "SecretStore", name: "c"}}},
		{"generators only: none", `{spec: {dataFrom: [{sourceRef: {generatorRef: {name: pw}}}]}}`, nil},
		{"garbage is none, not a panic", `{spec: {secretStoreRef: 7, data: "x", dataFrom: [3, null, {sourceRef: []}]}}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := storeRefs(decode(t, tc.spec).Object, "spec"); !slices.Equal(got, tc.want) {
				t.Errorf("storeRefs = %+v, want %+v", got, tc.want)
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
		{"openBao, no class", "", `{spec: {provider: {openBao: {server: x}}}}`, true},
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

func TestServes_EveryNamedStoreDecides(t *testing.T) {
	stores := []client.Object{
		decode(t, `{apiVersion: external-secrets.io/v1, kind: SecretStore, metadata: {name: ours, namespace: app}, spec: {controller: baosync, provider: {vault: {}}}}`),
		decode(t, `{apiVersion: external-secrets.io/v1, kind: SecretStore, metadata: {name: theirs, namespace: app}, spec: {provider: {vault: {}}}}`),
		decode(t, `{apiVersion: external-secrets.io/v1, kind: SecretStore, metadata: {name: aws, namespace: app}, spec: {controller: baosync, provider: {aws: {}}}}`),
	}
	cache := fake.NewClientBuilder().WithObjects(stores...).Build()
	es := func(spec string) *unstructured.Unstructured {
		return decode(t, `{apiVersion: external-secrets.io/v1, kind: ExternalSecret, metadata: {name: x, namespace: app}, spec: `+spec+`}`)
	}
	cases := []struct {
		name  string
		class string
		obj   *unstructured.Unstructured
		want  decision
	}{
		{"its store is of the served class", "baosync", es(`{secretStoreRef: {name: ours}}`), served},
		{"one entry reads from another class's store", "baosync", es(`{secretStoreRef: {name: ours}, data: [{sourceRef: {storeRef: {name: theirs}}}]}`), notServed},
		{"a store of another provider", "baosync", es(`{secretStoreRef: {name: aws}}`), notServed},
		{"a missing store: not taken by a classed operator", "baosync", es(`{secretStoreRef: {name: gone}}`), notServed},
		{"a missing store: an unmarked object is the empty class's", "", es(`{secretStoreRef: {name: gone}}`), served},
		{"a missing store: kept by the operator whose mark it carries", "baosync", marked(es(`{secretStoreRef: {name: gone}}`), "baosync"), served},
		{"a missing store: not taken from another class's operator", "", marked(es(`{secretStoreRef: {name: gone}}`), "baosync"), notServed},
		{"a missing store does not outweigh another class's store", "", marked(es(`{secretStoreRef: {name: gone}, data: [{sourceRef: {storeRef: {name: ours}}}]}`), ""), notServed},
		{"generators only: the empty class's", "baosync", es(`{dataFrom: [{sourceRef: {generatorRef: {name: pw}}}]}`), notServed},
		{"made by ESO's ClusterExternalSecret: its mirror makes baosync's", "baosync",
			decode(t, `{apiVersion: external-secrets.io/v1, kind: ExternalSecret, metadata: {name: x, namespace: app, ownerReferences: [{apiVersion: external-secrets.io/v1, kind: ClusterExternalSecret, name: c, uid: u, controller: true}]}, spec: {secretStoreRef: {name: ours}}}`),
			notServed},
		{"a PushSecret naming only served stores", "baosync",
			decode(t, `{apiVersion: external-secrets.io/v1alpha1, kind: PushSecret, metadata: {name: p, namespace: app}, spec: {secretStoreRefs: [{name: ours}]}}`), served},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := kinds[2]
			if tc.obj.GetKind() == "PushSecret" {
				k = kinds[4]
			}
			r := &Reconciler{Cache: cache, Class: tc.class, kind: k}
			got, err := r.serves(context.Background(), tc.obj)
			if err != nil || got != tc.want {
				t.Errorf("serves = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// marked returns o with the mark of the operator serving the ESO class.
func marked(o *unstructured.Unstructured, class string) *unstructured.Unstructured {
	o.SetAnnotations(map[string]string{v1alpha1.AnnotationServed: class})
	return o
}
