package externalsecret

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/openbao/openbao/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// secondMount enables a KV v2 mount of the test's own, so that two stores of
// one ExternalSecret read different engines.
func secondMount(t *testing.T) string {
	t.Helper()
	g := NewWithT(t)
	mount := fmt.Sprintf("kv%08x", rand.Uint32())
	g.Expect(env.VaultClient.Sys().MountWithContext(testCtx(t), mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}})).To(Succeed())
	return mount
}

// withSourceData adds a data entry read from store (a SecretStore).
func withSourceData(secretKey, key, property, store string) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.Data = append(es.Spec.Data, v1alpha1.ExternalSecretData{SecretKey: secretKey,
			RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: property},
			SourceRef: &v1alpha1.StoreSourceRef{StoreRef: v1alpha1.SecretStoreRef{Name: store, Kind: v1alpha1.SecretStoreKindNamespaced}}})
	}
}

// withSourceExtract adds a dataFrom extract read from store (a SecretStore).
func withSourceExtract(key, store string) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = append(es.Spec.DataFrom, v1alpha1.ExternalSecretDataFromRemoteRef{
			Extract:   &v1alpha1.ExternalSecretDataRemoteRef{Key: key},
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{StoreRef: &v1alpha1.SecretStoreRef{Name: store, Kind: v1alpha1.SecretStoreKindNamespaced}}})
	}
}

func TestSourceRef_OneExternalSecretReadsSeveralStores(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	mount := secondMount(t)
	tokenStore(t, ns, "main")
	tokenStore(t, ns, "other", func(v *v1alpha1.VaultProvider) { v.Path = &mount })
	mainPath := kvPath(t, "app")
	putKV(t, mainPath, map[string]any{"user": leak.Secret("main-user")})
	g.Eventually(func() error {
		return env.KVPut(testCtx(t), mount+"/db", map[string]any{"password": leak.Secret("other-pass"), "host": "db.example"})
	}, eventually, poll).Should(Succeed(), "the new mount is upgraded to KV v2 in the background")

	createES(t, newES(ns, "app", "main",
		withSourceExtract("db", "other"),
		withData("user", mainPath[len("secret/"):], "user"),
		withSourceData("pass", "db", "password", "other")))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{
		"user": "main-user", "pass": "other-pass", "password": "other-pass", "host": "db.example"}))
}

func TestSourceRef_AFailureNamesTheEntryAndItsStore(t *testing.T) {
	cases := []struct {
		name   string
		opt    esOpt
		reason string
		says   []string
	}{
		{"a data entry naming a missing store waits for it", withSourceData("x", "app", "k", "nowhere"),
			v1alpha1.ReasonStoreNotFound, []string{`data[1] (secretKey "x", from SecretStore "nowhere"): sourceRef.storeRef: not found`}},
		{"a dataFrom entry naming a missing store waits for it", withSourceExtract("app", "gone"),
			v1alpha1.ReasonStoreNotFound, []string{`dataFrom[0], from SecretStore "gone": sourceRef.storeRef: not found`}},
		{"a missing secret in the other store is RemoteNotFound for that entry", withSourceData("x", "absent", "k", "other"),
			v1alpha1.ReasonRemoteNotFound, []string{`data[1] (secretKey "x", from SecretStore "other")`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ns, path, _ := syncedApp(t, "sourceref-first-value")
			tokenStore(t, ns, "other")
			es := newES(ns, "second", "vault", withData("k", path[len("secret/"):], "k"), tc.opt)
			createES(t, es)
			got := waitReady(t, ns, "second", metav1.ConditionFalse, tc.reason)
			for _, s := range tc.says {
				g.Expect(readyMessage(got)).To(ContainSubstring(s))
			}
			g.Expect(getSecret(t, ns, "second")).To(BeNil(), "nothing is written while an entry fails")
		})
	}
}

// TestSourceRef_WithoutSecretStoreRefEveryEntryReadsItsOwnStore: as in ESO,
// an ExternalSecret whose entries all name their stores needs no
// secretStoreRef; the first entry's store decides who serves it.
func TestSourceRef_WithoutSecretStoreRefEveryEntryReadsItsOwnStore(t *testing.T) {
	t.Parallel() // own namespace, stores and KV paths
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "first")
	tokenStore(t, ns, "second")
	path := kvPath(t, "storeless")
	putKV(t, path, map[string]any{"user": leak.Secret("storeless-user"), "pass": leak.Secret("storeless-pass")})
	es := newES(ns, "app", "", withSourceExtract(path[len("secret/"):], "first"), withSourceData("p", path[len("secret/"):], "pass", "second"))
	g.Expect(es.Spec.SecretStoreRef.IsZero()).To(BeTrue())
	createES(t, es)
	synced := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(readyMessage(synced)).To(Equal(`Secret "app" is in sync with its sources`))
	g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{"user": "storeless-user", "pass": "storeless-pass", "p": "storeless-pass"}))
}
