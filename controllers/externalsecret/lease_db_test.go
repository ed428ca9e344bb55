package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/ledger"
)

func TestLease_DatabaseCredentialLogsInSurvivesARestartAndIsRevokedWithTheExternalSecret(t *testing.T) {
	t.Parallel() // own namespace, database role and generator
	g := NewWithT(t)
	ctx := testCtx(t)
	ns := newNamespace(t)
	role := dbRole(t, ns, time.Hour, 2*time.Hour)
	pg := postgres(t)
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	createDynamic(t, ns, "db", "database/creds/"+role, nil)
	es := newES(ns, "app", "vault", withGenerator("VaultDynamicSecret", "db"))
	createES(t, es)
	synced := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	creds := generatedData(t, ns, "app")
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).To(Succeed())
	id := leaseOf(g, synced)
	g.Expect(id).To(HavePrefix("database/creds/" + role + "/"))
	g.Expect(synced.Status.Generated[0]).To(And(HaveField("Renewable", true), HaveField("NextRenewalTime", Not(BeNil())),
		HaveField("LeaseDuration", Equal(&metav1.Duration{Duration: time.Hour}))))
	g.Expect(leaseFound(t, id)).To(BeTrue())
	g.Expect(synced.Finalizers).To(ContainElement(ledger.Finalizer))

	// A forced refresh and a new operator (nothing in memory) keep the lease.
	forceSync(t, es, "again")
	res := restartedReconciler().Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(es)})
	g.Expect(res.Err).NotTo(HaveOccurred())
	again := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(leaseOf(g, again)).To(Equal(id))
	g.Expect(secretData(t, ns, "app")).To(Equal(creds))

	// Deleting the ExternalSecret revokes the lease: the role is dropped.
	g.Expect(k8s.Delete(ctx, es)).To(Succeed())
	g.Eventually(func() bool { return leaseFound(t, id) }, eventually, poll).Should(BeFalse())
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).NotTo(Succeed())
	exists, err := pg.RoleExists(ctx, creds["username"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(exists).To(BeFalse())
	g.Eventually(func() error {
		return client.IgnoreNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(es), &v1alpha1.ExternalSecret{}))
	}, eventually, poll).Should(Succeed())
}

func TestLease_ShortLeaseIsRenewedThenReissuedAndNeverServedExpired(t *testing.T) {
	t.Parallel() // own namespace, database role and generator
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	// TTLs leave a renewal a few seconds of slack on a loaded 2-core machine (-race).
	role := dbRole(t, ns, 15*time.Second, 40*time.Second)
	pg := postgres(t)
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	createDynamic(t, ns, "db", "database/creds/"+role, func(s *v1alpha1.VaultDynamicSecretSpec) {
		s.RotationGracePeriod = &metav1.Duration{Duration: 2 * time.Second}
	})
	es := newES(ns, "app", "vault", withGenerator("VaultDynamicSecret", "db"))
	es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyOnChange // leases are kept whatever the policy
	createES(t, es)
	first := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	firstLease := leaseOf(g, first)
	firstRenewal := first.Status.Generated[0].NextRenewalTime.Time

	// Watch the Secret for up to 70s: every credential it holds logs in, the first
	// lease is renewed (its renewal time moves on) before a new one replaces it.
	renewed, users := false, map[string]bool{}
	deadline := time.Now().Add(70 * time.Second)
	var lastLease string
	for time.Now().Before(deadline) && len(users) < 2 {
		data := secretData(t, ns, "app")
		leak.Secret(data["password"])
		users[data["username"]] = true
		g.Expect(pg.TryLogin(ctx, data["username"], data["password"])).To(Succeed(), "the Secret held a dead credential")
		cur := &v1alpha1.ExternalSecret{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(es), cur)).To(Succeed())
		if len(cur.Status.Generated) > 0 {
			lastLease = cur.Status.Generated[0].LeaseID
			if n := cur.Status.Generated[0].NextRenewalTime; lastLease == firstLease && n != nil && n.Time.After(firstRenewal) {
				renewed = true
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	g.Expect(renewed).To(BeTrue(), "the first lease was never renewed")
	g.Expect(users).To(HaveLen(2), "no new credential was issued before the max TTL")
	g.Expect(lastLease).NotTo(Equal(firstLease))
	// The replaced lease is revoked once its grace period (or its life) ends.
	g.Eventually(func() bool { return leaseFound(t, firstLease) }, eventually, poll).Should(BeFalse())
}

func TestLease_AnEntryNoLongerUsedHasItsLeaseRevoked(t *testing.T) {
	t.Parallel() // own namespace, database role and generator
	g := NewWithT(t)
	ctx := testCtx(t)
	ns := newNamespace(t)
	role := dbRole(t, ns, time.Hour, 2*time.Hour)
	pg := postgres(t)
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	createDynamic(t, ns, "db", "database/creds/"+role, nil)
	path := kvPath(t, "plain")
	putKV(t, path, map[string]any{"k": "plain-kv-value"})
	es := newES(ns, "app", "vault", withGenerator("VaultDynamicSecret", "db"), withData("k", path[len("secret/"):], "k"))
	createES(t, es)
	id := leaseOf(g, waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced))
	creds := generatedData(t, ns, "app")
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).To(Succeed())

	update(t, es, func(es *v1alpha1.ExternalSecret) { es.Spec.DataFrom = nil })
	g.Eventually(func() bool { return leaseFound(t, id) }, eventually, poll).Should(BeFalse())
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).NotTo(Succeed())
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).Should(Equal(map[string]string{"k": "plain-kv-value"}))
}

// TestLease_DeletedWithCascadeOrphanTheLeaseIsKept: `kubectl delete
// --cascade=orphan` keeps the Secret, so the lease of the credential in it is
// not revoked (the ESO-compatible mode hands objects back to ESO this way).
func TestLease_DeletedWithCascadeOrphanTheLeaseIsKept(t *testing.T) {
	t.Parallel() // own namespace, database role and generator
	g := NewWithT(t)
	ctx := testCtx(t)
	ns := newNamespace(t)
	role := dbRole(t, ns, time.Hour, 2*time.Hour)
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	createDynamic(t, ns, "db", "database/creds/"+role, nil)
	es := newES(ns, "app", "vault", withGenerator("VaultDynamicSecret", "db"))
	createES(t, es)
	id := leaseOf(g, waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced))

	g.Expect(k8s.Delete(ctx, es, client.PropagationPolicy(metav1.DeletePropagationOrphan))).To(Succeed())
	g.Eventually(func() []string {
		got := &v1alpha1.ExternalSecret{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(es), got)).To(Succeed())
		return got.Finalizers
	}, eventually, poll).Should(Equal([]string{metav1.FinalizerOrphanDependents}), "baosync lets go; the garbage collector (not in envtest) orphans")
	g.Expect(leaseFound(t, id)).To(BeTrue(), "the lease of the kept Secret is not revoked")

	_, err := env.VaultClient.Logical().WriteWithContext(ctx, "sys/leases/revoke", map[string]any{"lease_id": id})
	g.Expect(err).NotTo(HaveOccurred())
	update(t, es, func(es *v1alpha1.ExternalSecret) { es.Finalizers = nil }) // what the garbage collector would do
}
