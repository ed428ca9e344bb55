package externalsecret

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/refreshapi"
)

// streamToken is the token the suite's socket audit device writes in front
// of every line; a store that names another token hears nothing.
const streamToken = "suite-audit-stream-token-0123456789"

var auditOnce sync.Once

// streamAudit enables, once, a socket audit device pointed at the suite's
// change feed with streamToken as its prefix (testenv.AuditStream).
func streamAudit(t *testing.T) {
	t.Helper()
	var err error
	auditOnce.Do(func() { _, err = env.AuditStream(context.Background(), "baosync", feedAddr, streamToken) })
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
}

// instantStore creates a store with the root token whose instant updates
// listen to the audit stream with token, and returns the option that points
// an ExternalSecret at it. A stream token belongs to one namespace or to the
// cluster, and the suite has one stream: a token's store is a
// ClusterSecretStore (for namespace ns only); without a token (the refresh
// endpoint only) it is a SecretStore named name.
func instantStore(t *testing.T, ns, name, token string) esOpt {
	t.Helper()
	createSecret(t, ns, name+"-token", map[string]string{"token": env.Vault.Token})
	path := "secret"
	spec := v1alpha1.SecretStoreSpec{InstantUpdates: &v1alpha1.InstantUpdates{},
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: name + "-token", Key: "token"}}}}}
	if token == "" {
		NewWithT(t).Expect(k8s.Create(context.Background(), &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec})).To(Succeed())
		return func(*v1alpha1.ExternalSecret) {}
	}
	createSecret(t, ns, name+"-stream", map[string]string{"token": token})
	spec.InstantUpdates.StreamTokenSecretRef = &v1alpha1.SecretKeySelector{Name: name + "-stream", Key: "token", Namespace: &ns}
	spec.Provider.Vault.Auth.TokenSecretRef.Namespace = &ns
	spec.Conditions = []v1alpha1.ClusterSecretStoreCondition{{Namespaces: []string{ns}}}
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: name + "-" + ns}, Spec: spec}
	NewWithT(t).Expect(k8s.Create(context.Background(), css)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), css) })
	return onShared(css.Name)
}

// remoteChangedEvents counts the RemoteChanged events of an object, with
// their repeats.
func remoteChangedEvents(t *testing.T, ns, name string) int {
	t.Helper()
	list := &eventsv1.EventList{}
	NewWithT(t).Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	n := 0
	for _, e := range list.Items {
		if e.Reason == v1alpha1.ReasonRemoteChanged && e.Regarding.Name == name {
			n++
			if e.Series != nil { // repeats of one reason and action are counted on the first event
				n += int(e.Series.Count) - 1
			}
		}
	}
	return n
}

// TestInstantUpdates_AChangeInVaultRefreshesExactlyTheObjectsThatReadIt: a
// real Vault streams its audit log to the operator. With a 1 h refresh
// interval, a KV write, a metadata update, a delete and a key new under a
// find root each refresh exactly the objects that read the path; a store
// listening for another token's stream hears nothing.
func TestInstantUpdates_AChangeInVaultRefreshesExactlyTheObjectsThatReadIt(t *testing.T) {
	t.Parallel() // own namespace, stores and KV paths
	g := NewWithT(t)
	ctx := testCtx(t)
	streamAudit(t)
	ns := newNamespace(t)
	vault := instantStore(t, ns, "vault", streamToken)
	other := instantStore(t, ns, "other", "another-servers-stream-token-0000")
	// The stream connects first: its connecting catches up every object of the store.
	g.Eventually(func(g Gomega) {
		s := &v1alpha1.ClusterSecretStore{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "vault-" + ns}, s)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(s.Status.Conditions, v1alpha1.ConditionInstantUpdates)).To(BeTrue(), "%v", s.Status.Conditions)
		o := &v1alpha1.ClusterSecretStore{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "other-" + ns}, o)).To(Succeed())
		c := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionInstantUpdates)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonStreamNotConnected))
	}, eventually, poll).Should(Succeed())
	p1, p2, root := kvPath(t, "one"), kvPath(t, "two"), kvPath(t, "found")
	rel := func(p string) string { return p[len("secret/"):] }
	putKV(t, p1, map[string]any{"k": "v1"})
	putKV(t, p2, map[string]any{"k": "v2"})
	putKV(t, root+"/a", map[string]any{"k": "a"})
	hour := func(es *v1alpha1.ExternalSecret) { es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Hour} }
	createES(t, newES(ns, "one", "", vault, hour, withData("k", rel(p1), "k")))
	createES(t, newES(ns, "two", "", vault, hour, withData("k", rel(p2), "k")))
	createES(t, newES(ns, "deaf", "", other, hour, withData("k", rel(p1), "k")))
	findRoot := rel(root)
	createES(t, newES(ns, "found", "", vault, hour, func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Find: &v1alpha1.ExternalSecretFind{Path: &findRoot}}}
	}))
	for _, name := range []string{"one", "two", "deaf", "found"} {
		waitReady(t, ns, name, metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	}

	// A KV v2 write reaches "one" at once, and nobody else.
	putKV(t, p1, map[string]any{"k": "v1-new"})
	g.Eventually(func() map[string]string { return secretData(t, ns, "one") }, eventually, poll).Should(Equal(map[string]string{"k": "v1-new"}))
	g.Consistently(func() map[string]string { return secretData(t, ns, "deaf") }, 3*time.Second, poll).Should(Equal(map[string]string{"k": "v1"}),
		"a store listening to another stream was refreshed")
	g.Expect(remoteChangedEvents(t, ns, "two")).To(BeZero())
	g.Expect(remoteChangedEvents(t, ns, "found")).To(BeZero())

	// A metadata update refreshes "two" (its value is the same).
	_, err := env.Write(ctx, "secret/metadata/"+rel(p2), map[string]any{"custom_metadata": map[string]any{"owner": "x"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func() int { return remoteChangedEvents(t, ns, "two") }, eventually, poll).Should(Equal(1))

	// A key new under the find root appears in "found".
	putKV(t, root+"/b", map[string]any{"k": "b"})
	g.Eventually(func() map[string]string { return secretData(t, ns, "found") }, eventually, poll).Should(HaveLen(2))

	// A delete makes "one" notice at once that its secret is gone.
	g.Expect(env.KVDelete(ctx, p1)).To(Succeed())
	waitReady(t, ns, "one", metav1.ConditionFalse, v1alpha1.ReasonRemoteNotFound)
	g.Expect(remoteChangedEvents(t, ns, "deaf")).To(BeZero())
}

// TestInstantUpdates_APushSecretsOwnWriteDoesNotLoop: a PushSecret writes a
// path that an ExternalSecret reads. A change of the source is pushed once,
// the ExternalSecret refreshes from the audit stream, and then all is quiet:
// the push's own write wakes no PushSecret, so nothing writes again.
func TestInstantUpdates_APushSecretsOwnWriteDoesNotLoop(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ctx := testCtx(t)
	streamAudit(t)
	ns := newNamespace(t)
	vault := instantStore(t, ns, "vault", streamToken)
	remoteKey := kvPath(t, "pushed")[len("secret/"):]
	createSecret(t, ns, "src", map[string]string{"k": "first"})
	ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: ns}, Spec: v1alpha1.PushSecretSpec{
		SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault-" + ns, Kind: v1alpha1.SecretStoreKindCluster}},
		Selector:        v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
		RefreshInterval: &metav1.Duration{Duration: time.Second},
		Data: []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "k",
			RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remoteKey, Property: "k"}}}}}}
	g.Expect(k8s.Create(ctx, ps)).To(Succeed())
	version := func() int {
		sec, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/metadata/"+remoteKey)
		if err != nil || sec == nil {
			return 0
		}
		var v int
		_, _ = fmt.Sscan(fmt.Sprint(sec.Data["current_version"]), &v)
		return v
	}
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(ps.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	createES(t, newES(ns, "mirror", "", vault, func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Hour}
	}, withData("k", remoteKey, "k")))
	waitReady(t, ns, "mirror", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	pushed := version()

	src := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "src"}, src)).To(Succeed())
	src.Data["k"] = []byte("second")
	g.Expect(k8s.Update(ctx, src)).To(Succeed())
	g.Eventually(func() map[string]string { return secretData(t, ns, "mirror") }, eventually, poll).Should(HaveKeyWithValue("k", "second"))
	g.Expect(version()).To(Equal(pushed+1), "one change, one write")
	g.Consistently(version, 5*time.Second, poll).Should(Equal(pushed+1), "the push and the refresh it caused keep writing")
	g.Expect(remoteChangedEvents(t, ns, "mirror")).To(Equal(1))
}

// TestRefreshEndpoint_AuthorisedCallersRefreshWhatTheyName: the HTTPS
// endpoint answers 401 without a token, 403 to a token without the verb
// "refresh", and with it refreshes the ExternalSecret, or what reads a path
// of a store, at once.
func TestRefreshEndpoint_AuthorisedCallersRefreshWhatTheyName(t *testing.T) {
	t.Parallel() // own namespace, store, KV path and RBAC
	g := NewWithT(t)
	ctx := testCtx(t)
	ns := newNamespace(t)
	instantStore(t, ns, "vault", "")
	p := kvPath(t, "app")
	putKV(t, p, map[string]any{"k": "before"})
	createES(t, newES(ns, "app", "vault", func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Hour}
	}, withData("k", p[len("secret/"):], "k")))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	serviceAccount(t, ns, "pipeline")
	tokenFor := func(audiences ...string) string {
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}
		g.Expect(k8s.SubResource("token").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "pipeline", Namespace: ns}}, tr)).To(Succeed())
		return leak.Secret(tr.Status.Token)
	}
	token, apiToken := tokenFor(refreshapi.Audience), tokenFor()

	post := func(token, body string) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+refreshAddr+"/refresh", strings.NewReader(body))
		g.Expect(err).NotTo(HaveOccurred())
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the endpoint's self-signed certificate
		resp, err := cl.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	object := fmt.Sprintf(`{"kind":"ExternalSecret","namespace":%q,"name":"app"}`, ns)
	byPath := fmt.Sprintf(`{"kind":"SecretStore","namespace":%q,"name":"vault","path":%q}`, ns, p[len("secret/"):])
	g.Expect(post("", object)).To(Equal(http.StatusUnauthorized))
	g.Expect(post("not-a-token", object)).To(Equal(http.StatusUnauthorized))
	g.Expect(post(token, object)).To(Equal(http.StatusForbidden))
	g.Expect(post(apiToken, object)).To(Equal(http.StatusUnauthorized), "a token for the API server itself was taken")

	g.Expect(k8s.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "refresh", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"baosync.io"}, Resources: []string{"externalsecrets", "secretstores"}, Verbs: []string{"refresh"}}}})).To(Succeed())
	g.Expect(k8s.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "refresh", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "refresh"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "pipeline", Namespace: ns}}})).To(Succeed())
	putKV(t, p, map[string]any{"k": "after"})
	g.Eventually(func() int { return post(token, object) }, eventually, poll).Should(Equal(http.StatusAccepted))
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).Should(Equal(map[string]string{"k": "after"}))

	putKV(t, p, map[string]any{"k": "again"})
	g.Expect(post(token, byPath)).To(Equal(http.StatusAccepted))
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).Should(Equal(map[string]string{"k": "again"}))
	g.Eventually(func() int { return remoteChangedEvents(t, ns, "app") }, eventually, poll).Should(BeNumerically(">=", 2))
	other := `{"kind":"ExternalSecret","namespace":"default","name":"app"}`
	g.Expect(post(token, other)).To(Equal(http.StatusForbidden), "a namespace's Role reaches another namespace")
}
