package e2e

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/openbao/openbao/api/v2"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// The hostile-tenant suite runs one operator process, as its own
// ServiceAccount with the generated RBAC and a 256Mi container's soft memory
// limit, and
// attacks it from tenant namespaces. It serves the controller class
// hostileClass only, so that it leaves the other e2e tests' objects alone.
var (
	hostileOnce sync.Once
	hostileOp   *testenv.OperatorProcess
	hostileErr  error
)

// hostileMemLimit is the soft memory limit the operator sets itself in a
// container limited to 256Mi (--gomemlimit-ratio 0.9), four times stricter
// than the chart's default limit of 1Gi; the test process has no cgroup limit
// of its own, so it is given as GOMEMLIMIT. peakRSSBudget is that container
// limit: past it, a real container would be OOM-killed.
const (
	hostileMemLimit = "230MiB"
	peakRSSBudget   = 256.0 // MiB
	namespaceRate   = "20"
	hostileClass    = "hostile-suite"
)

// operator returns the suite's operator process, started on first use.
func operator(t *testing.T) *testenv.OperatorProcess {
	t.Helper()
	hostileOnce.Do(func() {
		hostileOp, hostileErr = env.StartOperatorWithEnv(context.Background(), bin, "hostile",
			[]string{"GOMEMLIMIT=" + hostileMemLimit},
			"--metrics-secure=true", "--controller-class", hostileClass, "--vault-namespace-rate-limit", namespaceRate, "--vault-namespace-rate-burst", namespaceRate,
			"--namespace-sync-rate", namespaceRate, "--namespace-sync-burst", "100")
	})
	if hostileErr != nil {
		t.Fatalf("start the operator: %v", hostileErr)
	}
	return hostileOp
}

// tenant creates a namespace for one attack.
func tenant(t *testing.T, prefix string) string {
	t.Helper()
	ns := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1000000)
	NewWithT(t).Expect(env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	return ns
}

// tenantToken returns a Vault token with the read policy, as a tenant would hold.
func tenantToken(t *testing.T) string {
	t.Helper()
	g := NewWithT(t)
	_, err := env.Write(context.Background(), "sys/policies/acl/read", map[string]any{"policy": testenv.ReadPolicy})
	g.Expect(err).NotTo(HaveOccurred())
	sec, err := env.VaultClient.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"read"}, TTL: "1h"})
	g.Expect(err).NotTo(HaveOccurred())
	return sec.Auth.ClientToken
}

// tenantStore creates a SecretStore with token auth at server (path may be nil).
func tenantStore(t *testing.T, ns, name, server, token string, path *string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-token", Namespace: ns},
		StringData: map[string]string{"token": token}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: server, Path: path,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: name + "-token", Key: "token"}}}}}})).To(Succeed())
}

// es builds an ExternalSecret reading key#property into secret key "k".
func es(ns, name, store, key, property string) *v1alpha1.ExternalSecret {
	return &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: store},
			Data: []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: property}}}}}
}

// waitReason waits until obj's Ready condition, for its current generation,
// has reason, and returns its message.
func waitReason(t *testing.T, obj client.Object, conds func() []metav1.Condition, reason string) string {
	t.Helper()
	var msg string
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := meta.FindStatusCondition(conds(), v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()))
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		msg = c.Message
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
	return msg
}

// waitES waits for an ExternalSecret's Ready reason.
func waitES(t *testing.T, e *v1alpha1.ExternalSecret, reason string) string {
	t.Helper()
	return waitReason(t, e, func() []metav1.Condition { return e.Status.Conditions }, reason)
}

// waitStore waits for a store's Ready reason.
func waitStore(t *testing.T, s v1alpha1.GenericStore, reason string) string {
	t.Helper()
	return waitReason(t, s, func() []metav1.Condition { return s.GetStatus().Conditions }, reason)
}

// acceptedByAPIServer asks the API server whether it authenticates token.
func acceptedByAPIServer(t *testing.T, token string) bool {
	t.Helper()
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	NewWithT(t).Expect(env.Client.Create(context.Background(), tr)).To(Succeed())
	return tr.Status.Authenticated
}

// apiServerAudience returns the audience the API server puts in tokens that
// name none: the one audience a token must never carry to a store's server.
func apiServerAudience(t *testing.T, ns string) string {
	t.Helper()
	g := NewWithT(t)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns}}
	g.Expect(env.Client.Create(context.Background(), sa)).To(Succeed())
	exp := int64(600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}
	g.Expect(env.Client.SubResource("token").Create(context.Background(), sa, tr)).To(Succeed())
	claims := jwtClaims(t, tr.Status.Token)
	aud, _ := claims["aud"].([]any)
	g.Expect(aud).NotTo(BeEmpty())
	return aud[0].(string)
}

// jwtClaims decodes a JWT's payload without checking it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	NewWithT(t).Expect(parts).To(HaveLen(3))
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	claims := map[string]any{}
	NewWithT(t).Expect(json.Unmarshal(b, &claims)).To(Succeed())
	return claims
}

// encodings lists the forms a value may leak in.
func encodings(v string) []string {
	b := []byte(v)
	return []string{v, base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b))}
}

// expectNoLeak checks status messages and events of namespace ns, and the
// operator's log, for any encoding of values.
func expectNoLeak(t *testing.T, ns string, values ...string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	var texts []string
	list := &v1alpha1.ExternalSecretList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	for _, e := range list.Items {
		for _, c := range e.Status.Conditions {
			texts = append(texts, c.Message)
		}
	}
	stores := &v1alpha1.SecretStoreList{}
	g.Expect(env.Client.List(ctx, stores, client.InNamespace(ns))).To(Succeed())
	for _, s := range stores.Items {
		for _, c := range s.Status.Conditions {
			texts = append(texts, c.Message)
		}
	}
	events := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, events, client.InNamespace(ns))).To(Succeed())
	for _, e := range events.Items {
		texts = append(texts, e.Note)
	}
	texts = append(texts, readFile(operator(t).LogPath))
	all := strings.Join(texts, "\n")
	for _, v := range values {
		for _, form := range encodings(v) {
			g.Expect(all).NotTo(ContainSubstring(form), "value %q leaked as %q", v, form)
		}
	}
}

// expectOperatorHealthy checks the operator is alive and within its memory budget.
func expectOperatorHealthy(t *testing.T) {
	t.Helper()
	op := operator(t)
	g := NewWithT(t)
	g.Expect(op.Exited()).To(BeFalse(), "the operator died; its log:\n%s", readFile(op.LogPath))
	peak := op.PeakRSSMiB()
	t.Logf("operator peak RSS %.0f MiB (budget %.0f MiB, GOMEMLIMIT %s)", peak, peakRSSBudget, hostileMemLimit)
	g.Expect(peak).To(BeNumerically("<", peakRSSBudget))
}

// bystandersSync creates, in a new namespace named from prefix, n
// ExternalSecrets on the ClusterSecretStore css reading value, one after the
// other with pause between them, waits for each to sync, and returns the
// namespace.
func bystandersSync(t *testing.T, css, prefix string, n int, value string, pause time.Duration) string {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenant(t, prefix)
	g.Expect(env.KVPut(ctx, "secret/"+prefix+"/"+ns, map[string]any{"k": value})).To(Succeed())
	for i := range n {
		e := es(ns, fmt.Sprintf("v-%d", i), css, prefix+"/"+ns, "k")
		e.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
		waitES(t, e, v1alpha1.ReasonSecretSynced)
		time.Sleep(pause)
	}
	return ns
}

// victimSyncs checks that an innocent tenant still gets its Secret.
func victimSyncs(t *testing.T) {
	t.Helper()
	ns := tenant(t, "victim")
	path := "secret"
	g := NewWithT(t)
	g.Expect(env.KVPut(context.Background(), "secret/victim/"+ns, map[string]any{"v": "fine"})).To(Succeed())
	tenantStore(t, ns, "vault", env.Vault.Addr, env.Vault.Token, &path)
	e := es(ns, "app", "vault", "victim/"+ns, "v")
	g.Expect(env.Client.Create(context.Background(), e)).To(Succeed())
	waitES(t, e, v1alpha1.ReasonSecretSynced)
}
