package esocompat

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gstruct"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert"
	"github.com/baosync/baosync/test/testenv"
)

// The Secrets test/testdata/eso/vault.yaml describes, and those of them that
// hold generated passwords (random: equal in length, not in value).
var (
	esoSecrets = []string{"db", "all-of-api", "with-generator", "generator-only", "with-metadata", "from-bao",
		"eso-forms", "multi-store", "from-cluster", "from-selector", "multi-key"}
	generated = map[string]bool{"with-generator": true, "generator-only": true, "multi-key": true}
	// pushed are the remote keys the manifests' PushSecrets write, under eso/<namespace>/.
	pushed = []string{"pushed", "whole", "all-keys", "cas"}
)

// TestCompat_ESOManifestsUnconvertedGiveTheSameSecretsAsTheirConversion
// applies test/testdata/eso/vault.yaml twice: converted by `baosync convert`
// in one namespace, and unconverted (ESO's own objects, ESO's CRDs) in
// another. Every Secret and every pushed value must be the same byte for
// byte, and ESO's objects carry ESO-shaped status.
func TestCompat_ESOManifestsUnconvertedGiveTheSameSecretsAsTheirConversion(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	converted, unconverted := newNamespace(t), newNamespace(t)
	_, err := env.Write(ctx, "secret/metadata/eso/db", map[string]any{"custom_metadata": map[string]any{"owner": "payments"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.KVPut(ctx, "secret/eso/db", map[string]any{"username": "app", "password": leak.Secret("eso-db-pw")})).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/eso/api", map[string]any{"token": leak.Secret("eso-api-token")})).To(Succeed())
	g.Expect(env.KVPut(ctx, "secret/eso/certs/a", map[string]any{"crt": "cert-a-pem"})).To(Succeed())
	for _, ns := range []string{converted, unconverted} {
		createSecret(t, ns, "vault-token", map[string]string{"token": env.Vault.Token})
		createSecret(t, ns, "local-source", map[string]string{"token": leak.Secret("pushed-from-k8s")})
		createSecret(t, ns, "json-source", map[string]string{"config": `{"user":"whole"}`})
	}

	var out bytes.Buffer
	_, err = esoconvert.Convert(bytes.NewReader(esoManifests(t, converted)), &out)
	g.Expect(err).NotTo(HaveOccurred())
	createAll(t, converted, out.Bytes())
	manifests := servedVersions(esoManifests(t, unconverted))
	if env.ESOCRDVersion() != testenv.ESOVersion {
		manifests = forESO13(manifests) // the fallback outside CI
	}
	createAll(t, unconverted, manifests)

	for _, name := range esoSecrets[:8] {
		g.Eventually(func() string { return baosyncReady(ctx, converted, name) }, eventually, poll).Should(Equal(v1alpha1.ReasonSecretSynced), name)
		esoReady(t, "ExternalSecret", unconverted, name, "True", "SecretSynced")
	}
	for _, name := range esoSecrets {
		want, got := secret(t, converted, name), secret(t, unconverted, name)
		g.Expect(got.Type).To(Equal(want.Type), name)
		g.Expect(got.Labels).To(Equal(want.Labels), name)
		g.Expect(withoutBaosync(got.Annotations)).To(Equal(withoutBaosync(want.Annotations)), name)
		if !generated[name] {
			g.Expect(got.Data).To(Equal(want.Data), "Secret %s", name)
			continue
		}
		g.Expect(slices.Sorted(maps.Keys(got.Data))).To(Equal(slices.Sorted(maps.Keys(want.Data))), name)
		for k, v := range got.Data {
			if bytes.Equal(v, want.Data[k]) {
				continue // a key read from Vault
			}
			g.Expect(len(v)).To(And(Equal(len(want.Data[k])), Equal(24)), "%s %s", name, k) // a generated password
			leak.Secret(string(v))
		}
	}
	for _, key := range pushed {
		g.Eventually(remote("secret/data/eso/"+converted+"/"+key), eventually, poll).ShouldNot(BeNil(), key)
		want := remote("secret/data/eso/" + converted + "/" + key)()
		g.Eventually(remote("secret/data/eso/"+unconverted+"/"+key), eventually, poll).Should(Equal(want), "pushed %s", key)
	}
	expectESOStatus(t, unconverted)
}

// forESO13 fits the manifests to the CRDs of ESO v1.3, used only when ESO
// v2.9's are missing outside CI: the dedicated openBao provider and a
// duration store refreshInterval came in later ESO releases.
func forESO13(src []byte) []byte {
	for _, r := range [][2]string{{"    openBao:\n", "    vault:\n"}, {"refreshInterval: 5m\n", "refreshInterval: 300\n"}} {
		src = bytes.ReplaceAll(src, []byte(r[0]), []byte(r[1]))
	}
	return src
}

// servedVersions writes the manifests' v1beta1 objects as v1: ESO v1.3 and
// v2.9 no longer serve v1beta1 (ESO's own upgrade stored such objects as v1).
func servedVersions(src []byte) []byte {
	return bytes.ReplaceAll(src, []byte("external-secrets.io/v1beta1"), []byte("external-secrets.io/v1"))
}

// expectESOStatus checks what ESO's users read: ESO-shaped status, no mirror
// of what baosync does not serve, and ESO's status_condition gauge.
func expectESOStatus(t *testing.T, ns string) {
	g := NewWithT(t)
	ctx := context.Background()
	db := esoObject(t, "ExternalSecret", ns, "db")
	g.Expect(db.Object["status"]).To(And(HaveKeyWithValue("binding", map[string]any{"name": "db"}),
		HaveKeyWithValue("refreshTime", Not(BeEmpty())), HaveKeyWithValue("syncedResourceVersion", HavePrefix("1-"))))
	store := esoReady(t, "SecretStore", ns, "vault", "True", "Valid")
	g.Expect(store.Object["status"]).To(HaveKeyWithValue("capabilities", "ReadWrite"))
	esoReady(t, "PushSecret", ns, "push-back", "True", "Synced")
	g.Eventually(func() any {
		return esoObject(t, "ClusterExternalSecret", "", "eso-cluster-wide-"+ns).Object["status"]
	}, eventually, poll).Should(HaveKeyWithValue("provisionedNamespaces", []any{ns}))

	mirror := &v1alpha1.ExternalSecret{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, mirror)).To(Succeed())
	g.Expect(metav1.GetControllerOf(mirror)).To(gstruct.PointTo(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{
		"APIVersion": Equal("external-secrets.io/v1"), "Kind": Equal("ExternalSecret"), "UID": Equal(db.GetUID())})))
	g.Expect(esoObject(t, "SecretStore", ns, "aws").Object).NotTo(HaveKey("status"), "another provider's store is left alone")
	for key, obj := range map[string]client.Object{"aws": &v1alpha1.SecretStore{}, "ecr": &v1alpha1.Password{}} {
		g.Expect(apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: key}, obj))).To(BeTrue(), "no mirror of %s", key)
	}
	g.Expect(metrics(t)).To(ContainSubstring(`externalsecret_status_condition{condition="Ready",name="db",namespace="` + ns + `",status="True"} 1`))

	g.Expect(env.Client.Delete(ctx, esoObject(t, "ExternalSecret", ns, "from-bao"))).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "from-bao"}, &v1alpha1.ExternalSecret{}))
	}, eventually, poll).Should(BeTrue(), "the mirror goes with the ESO object")
	g.Expect(metrics(t)).NotTo(ContainSubstring(`name="from-bao",namespace="` + ns + `"`))
}

// baosyncReady returns the Ready reason of a baosync ExternalSecret.
func baosyncReady(ctx context.Context, ns, name string) string {
	es := &v1alpha1.ExternalSecret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, es); err != nil {
		return err.Error()
	}
	for _, c := range es.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

// withoutBaosync drops baosync's bookkeeping annotations, which hold hashes
// of the values (different for generated passwords).
func withoutBaosync(a map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.DeleteFunc(out, func(k, _ string) bool { return strings.HasPrefix(k, "baosync.io/") })
	return out
}

// metrics scrapes the operator's metrics endpoint.
func metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + operator.MetricsAddr + "/metrics")
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// TestCompat_BothAPIsInstalledTheShortNamesDoNotCollide: with ESO's CRDs and
// baosync's in one cluster (a side-by-side migration), no short name is
// shared, so `kubectl get es` keeps meaning ESO's and `bes` baosync's.
func TestCompat_BothAPIsInstalledTheShortNamesDoNotCollide(t *testing.T) {
	g := NewWithT(t)
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	g.Expect(err).NotTo(HaveOccurred())
	shortNames := func(groupVersion string) map[string]string {
		list, err := dc.ServerResourcesForGroupVersion(groupVersion)
		g.Expect(err).NotTo(HaveOccurred())
		out := map[string]string{}
		for _, r := range list.APIResources {
			for _, s := range r.ShortNames {
				out[s] = r.Kind
			}
		}
		return out
	}
	ours, theirs := shortNames(v1alpha1.GroupVersion.String()), shortNames("external-secrets.io/v1")
	g.Expect(ours).To(And(HaveKeyWithValue("bes", "ExternalSecret"), HaveKeyWithValue("bss", "SecretStore"),
		HaveKeyWithValue("bcss", "ClusterSecretStore"), HaveKeyWithValue("bces", "ClusterExternalSecret")))
	g.Expect(theirs).To(HaveKeyWithValue("es", "ExternalSecret"))
	for s := range ours {
		g.Expect(theirs).NotTo(HaveKey(s), "short name %q is ESO's too", s)
	}
	g.Expect(shortNames("external-secrets.io/v1alpha1")).NotTo(HaveKey("bps"))
}
