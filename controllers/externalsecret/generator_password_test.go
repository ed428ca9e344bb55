package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/providers/vault"
)

func TestGenerator_PasswordAndUUIDStayAcrossForcedRefreshAndRestart(t *testing.T) {
	t.Parallel() // own namespace, store and generators
	g := NewWithT(t)
	ctx := testCtx(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	createPassword(t, ns, "db-password", 32)
	createUUID(t, ns, "instance-id")
	es := newES(ns, "app", "vault", withGenerator("Password", "db-password"), withGenerator("UUID", "instance-id"))
	createES(t, es)
	synced := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	first := generatedData(t, ns, "app")
	g.Expect([]rune(first["password"])).To(HaveLen(32))
	g.Expect(first["uuid"]).To(HaveLen(36))

	g.Expect(synced.Status.Generated).To(HaveLen(2))
	g.Expect(synced.Status.Generated[0]).To(And(HaveField("Kind", "Password"), HaveField("Name", "db-password"),
		HaveField("GeneratedTime", Not(BeNil())), HaveField("RotationTime", Not(BeNil())), HaveField("LeaseID", "")))
	state := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: generatorstate.Name("ExternalSecret", synced)}, state)).To(Succeed())
	g.Expect(state.OwnerReferences).To(ConsistOf(HaveField("UID", synced.UID)))
	g.Expect(state.Labels).To(HaveKeyWithValue(generatorstate.Label, "ExternalSecret"))

	// A forced refresh reads everything again, and keeps the generated values.
	forceSync(t, es, "again")
	g.Eventually(func(g Gomega) {
		now := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
		g.Expect(now.Status.SyncedResourceVersion).NotTo(Equal(synced.Status.SyncedResourceVersion))
	}, eventually, poll).Should(Succeed())
	g.Expect(secretData(t, ns, "app")).To(Equal(first))

	// A new operator (nothing in memory) syncs the object again: same values.
	forceSync(t, es, "restart")
	res := restartedReconciler().Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(es)})
	g.Expect(res.Err).NotTo(HaveOccurred())
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "app")).To(Equal(first))
}

// restartedReconciler stands in for the operator after a restart: a reconciler
// with an empty memory and provider cache, on the test's own client.
func restartedReconciler() *Reconciler {
	return &Reconciler{Client: k8s, APIReader: k8s, Provider: vault.New(), Recorder: events.NewFakeRecorder(100),
		Metrics: metrics.New(prometheus.NewRegistry()), Clock: clock.RealClock{}, LeaseKey: testLeaseKey}
}

func TestGenerator_PasswordIsNewOncePerPeriodicInterval(t *testing.T) {
	t.Parallel() // own namespace, store and generator
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	createPassword(t, ns, "pw", 24)
	createES(t, newES(ns, "app", "vault", withGenerator("Password", "pw"), withRefresh(2*time.Second)))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	first := generatedData(t, ns, "app")["password"]
	es := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	generatedAt := es.Status.Generated[0].GeneratedTime.Time
	g.Eventually(func() string { return secretData(t, ns, "app")["password"] }, eventually, poll).ShouldNot(Equal(first))
	g.Expect(time.Since(generatedAt)).To(BeNumerically(">=", 2*time.Second), "not before the interval passed")
	leak.Secret(secretData(t, ns, "app")["password"])
}

func TestGenerator_PasswordIsNewWhenItsSpecChanges(t *testing.T) {
	t.Parallel() // own namespace, store and generator
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	pw := createPassword(t, ns, "pw", 24)
	es := newES(ns, "app", "vault", withGenerator("Password", "pw", v1alpha1.ExternalSecretRewrite{
		Regexp: &v1alpha1.RewriteRegexp{Source: "password", Target: "DB_PASSWORD"}}))
	es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyOnChange
	createES(t, es)
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	first := generatedData(t, ns, "app")
	g.Expect(first).To(HaveKey("DB_PASSWORD"), "rewrite applies to generated keys")

	update(t, pw, func(p *v1alpha1.Password) { p.Spec.Length = 40 })
	forceSync(t, es, "new-spec")
	g.Eventually(func() []rune { return []rune(secretData(t, ns, "app")["DB_PASSWORD"]) }, eventually, poll).Should(HaveLen(40))
	leak.Secret(secretData(t, ns, "app")["DB_PASSWORD"])
}

func TestGenerator_ClusterGeneratorServesANamespace(t *testing.T) {
	t.Parallel() // own namespace, store and uniquely named ClusterGenerator
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	cg := &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: "shared-" + ns}, Spec: v1alpha1.ClusterGeneratorSpec{
		Kind: v1alpha1.GeneratorKindPassword, Generator: v1alpha1.GeneratorSpec{PasswordSpec: &v1alpha1.PasswordSpec{Length: 20}}}}
	g.Expect(k8s.Create(ctx, cg)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), cg) })
	createES(t, newES(ns, "app", "vault", withGenerator("ClusterGenerator", cg.Name)))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect([]rune(generatedData(t, ns, "app")["password"])).To(HaveLen(20))
}

func TestGenerator_AnotherNamespacesGeneratorIsRefused(t *testing.T) {
	t.Parallel() // own namespaces and store
	g := NewWithT(t)
	owner, tenant := newNamespace(t), newNamespace(t)
	createPassword(t, owner, "pw", 24)
	tokenStore(t, tenant, "vault")
	createES(t, newES(tenant, "app", "vault", withGenerator("Password", "pw")))
	es := waitReady(t, tenant, "app", metav1.ConditionFalse, v1alpha1.ReasonGeneratorNotFound)
	g.Expect(readyMessage(es)).To(ContainSubstring("never reaches into another namespace"))
	g.Expect(getSecret(t, tenant, "app")).To(BeNil())
}

// TestGenerator_CreationAndSpecChangeWakeTheExternalSecret: an ExternalSecret
// applied before its generator (as a GitOps tool may) syncs when the generator
// appears, not at its next retry 30 s later; a change to the generator's spec
// reaches it the same way, with values made under the new spec.
func TestGenerator_CreationAndSpecChangeWakeTheExternalSecret(t *testing.T) {
	t.Parallel() // own namespace, store and generator
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	createES(t, newES(ns, "app", "vault", withGenerator("Password", "pw")))
	waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonGeneratorNotFound)

	pw := createPassword(t, ns, "pw", 20)
	const sooner = 20 * time.Second // less than the 30 s retry of a missing generator
	g.Eventually(func() *corev1.Secret { return getSecret(t, ns, "app") }, sooner, poll).ShouldNot(BeNil())
	g.Expect([]rune(generatedData(t, ns, "app")["password"])).To(HaveLen(20))

	update(t, pw, func(p *v1alpha1.Password) { p.Spec.Length = 40 })
	g.Eventually(func() []rune { return []rune(string(getSecret(t, ns, "app").Data["password"])) }, sooner, poll).Should(HaveLen(40))
	generatedData(t, ns, "app")
}

// TestGenerator_AnExternalSecretOfGeneratorsAloneNeedsNoStore: ESO's own
// generator examples leave secretStoreRef out; in a namespace without any
// store such an ExternalSecret syncs, and its status names no store.
func TestGenerator_AnExternalSecretOfGeneratorsAloneNeedsNoStore(t *testing.T) {
	t.Parallel() // own namespace and generator
	g := NewWithT(t)
	ns := newNamespace(t)
	createPassword(t, ns, "pw", 16)
	es := newES(ns, "app", "", withGenerator("Password", "pw"))
	g.Expect(es.Spec.SecretStoreRef.IsZero()).To(BeTrue())
	createES(t, es)
	synced := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(readyMessage(synced)).To(Equal(`Secret "app" is in sync with its sources`))
	g.Expect([]rune(generatedData(t, ns, "app")["password"])).To(HaveLen(16))
}
