package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestHostile_AForgedStateSecretNeverRenewsOrRevokesAnotherTenantsLease: team
// B's credential comes from an admin's ClusterGenerator. Tenant A, who can
// write its own generator state Secret and reads team B's lease ID from
// status, adds an entry naming that ClusterGenerator and lease, current and
// retired. Neither a sync of A's ExternalSecret (which prunes the unused
// entry) nor its deletion revokes team B's lease: the forged record fails
// the operator's seal, and A sees a LeaseRecordRejected event.
func TestHostile_AForgedStateSecretNeverRenewsOrRevokesAnotherTenantsLease(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	operator(t)
	pg, err := env.Postgres(ctx)
	g.Expect(err).NotTo(HaveOccurred())

	// Team B: a credential from the ClusterGenerator.
	teamB := tenant(t, "lease-b")
	g.Expect(env.DatabaseRole(ctx, "r-"+teamB, time.Hour, 2*time.Hour)).To(Succeed())
	gen := "team-b-db-" + teamB
	adminToken := dynamicToken(t) // the admin's, in the operator's namespace
	tokenName := "dynamic-token-" + teamB
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tokenName, Namespace: "baosync-system"},
		StringData: map[string]string{"token": adminToken}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: gen},
		Spec: v1alpha1.ClusterGeneratorSpec{Kind: v1alpha1.GeneratorKindVaultDynamicSecret, Generator: v1alpha1.GeneratorSpec{
			VaultDynamicSecretSpec: &v1alpha1.VaultDynamicSecretSpec{Controller: hostileClass, Path: "database/creds/r-" + teamB,
				Provider: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{
					Name: tokenName, Key: "token", Namespace: ptr("baosync-system")}}}}}}})).To(Succeed())
	tenantStore(t, teamB, "vault", env.Vault.Addr, tenantToken(t), nil)
	victim := generatedES(teamB, "app", v1alpha1.GeneratorRef{Kind: v1alpha1.GeneratorKindCluster, Name: gen})
	g.Expect(env.Client.Create(ctx, victim)).To(Succeed())
	waitES(t, victim, v1alpha1.ReasonSecretSynced)
	leaseB := victim.Status.Generated[0].LeaseID
	credsB := secretData(t, teamB)
	g.Expect(pg.TryLogin(ctx, credsB["username"], credsB["password"])).To(Succeed())

	// Tenant A: an ExternalSecret with a Password of its own (so that it has
	// generator state), and a forged record added to that state.
	teamA := tenant(t, "lease-a")
	tenantStore(t, teamA, "vault", env.Vault.Addr, tenantToken(t), nil)
	g.Expect(env.Client.Create(ctx, &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: teamA},
		Spec: v1alpha1.PasswordSpec{Length: 24}})).To(Succeed())
	attacker := generatedES(teamA, "app", v1alpha1.GeneratorRef{Kind: string(v1alpha1.GeneratorKindPassword), Name: "pw"})
	g.Expect(env.Client.Create(ctx, attacker)).To(Succeed())
	waitES(t, attacker, v1alpha1.ReasonSecretSynced)
	lease := map[string]any{"id": leaseB, "path": "database/creds/r-" + teamB, "renewable": true,
		"ref": map[string]any{"kind": v1alpha1.GeneratorKindCluster, "name": gen}}
	forged, err := json.Marshal(map[string]any{"values": map[string]any{}, "hash": "forged", "lease": lease,
		"retired": []any{map[string]any{"lease": lease, "revokeAt": time.Now().Add(-time.Hour).UTC()}}})
	g.Expect(err).NotTo(HaveOccurred())
	state := &corev1.Secret{}
	forge := func() {
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: teamA, Name: stateName(attacker)}, state)).To(Succeed())
		state.Data["dataFrom.5"] = forged
		g.Expect(env.Client.Update(ctx, state)).To(Succeed())
	}
	forge()

	// A forced sync prunes the unused entry; its deletion runs the finalizer
	// (added first, as baosync adds it before any lease).
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(attacker), attacker)).To(Succeed())
	attacker.Annotations = map[string]string{"baosync.io/force-sync": "forged"}
	attacker.Finalizers = append(attacker.Finalizers, "baosync.io/revoke-leases")
	g.Expect(env.Client.Update(ctx, attacker)).To(Succeed())
	leaseAlive := func() bool {
		_, found, err := env.LeaseLookup(ctx, leaseB)
		g.Expect(err).NotTo(HaveOccurred())
		return found
	}
	g.Eventually(func() bool { return hasEventReason(ctx, teamA, "LeaseRecordRejected") || !leaseAlive() },
		60*time.Second, 250*time.Millisecond).Should(BeTrue(), "the forged record was never read")
	g.Expect(leaseAlive()).To(BeTrue(), "a forged record revoked team B's lease")
	waitES(t, attacker, v1alpha1.ReasonSecretSynced)
	forge() // again, for the deletion
	g.Expect(env.Client.Delete(ctx, attacker)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(attacker), &v1alpha1.ExternalSecret{}))
	}, 60*time.Second, 250*time.Millisecond).Should(BeTrue(), "the attacker's ExternalSecret was not let go")

	// Team B's lease and credential are untouched.
	g.Expect(leaseAlive()).To(BeTrue(), "a forged record revoked team B's lease")
	g.Expect(pg.TryLogin(ctx, credsB["username"], credsB["password"])).To(Succeed())
	expectOperatorHealthy(t)
}

// dynamicToken returns a Vault token of the "dynamic" policy.
func dynamicToken(t *testing.T) string {
	t.Helper()
	tok, err := env.VaultClient.Logical().WriteWithContext(context.Background(), "auth/token/create",
		map[string]any{"policies": []string{"dynamic"}, "ttl": "2h", "no_default_policy": true})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return tok.Auth.ClientToken
}

// generatedES is an ExternalSecret "name" in ns of one generator.
func generatedES(ns, name string, ref v1alpha1.GeneratorRef) *v1alpha1.ExternalSecret {
	return &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
			DataFrom: []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{GeneratorRef: &ref}}}}}
}

// stateName is the generator state Secret's name of an ExternalSecret, as
// generatorstate.Name makes it.
func stateName(e *v1alpha1.ExternalSecret) string {
	sum := sha256.Sum256([]byte("ExternalSecret/" + string(e.UID)))
	return fmt.Sprintf("%s-generated-%s", e.Name, hex.EncodeToString(sum[:4]))
}

// TestHostile_GiantLeaseIDsAndARewrittenStateSecretStayBounded: a tenant's
// server answers every issue with a 512 KiB lease ID, and the tenant rewrites
// its generator state Secret in a loop with ~900 KiB of retired leases while
// forcing syncs. The lease ID is refused (InvalidStoreConfig, no retry), the
// records fail their seal, and the operator stays under its memory limit.
func TestHostile_GiantLeaseIDsAndARewrittenStateSecretStayBounded(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	operator(t)
	a := newAttacker()
	defer a.srv.Close()

	ns := tenant(t, "lease-giant")
	tenantStore(t, ns, "vault", env.Vault.Addr, tenantToken(t), nil)
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "own-token", Namespace: ns},
		StringData: map[string]string{"token": "t"}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Name: "giant", Namespace: ns},
		Spec: v1alpha1.VaultDynamicSecretSpec{Controller: hostileClass, Path: "database/creds/giant", Provider: &v1alpha1.VaultProvider{
			Server: a.srv.URL, Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "own-token", Key: "token"}}}}})).To(Succeed())
	giant := generatedES(ns, "giant", v1alpha1.GeneratorRef{Kind: string(v1alpha1.GeneratorKindVaultDynamicSecret), Name: "giant"})
	g.Expect(env.Client.Create(ctx, giant)).To(Succeed())
	msg := waitES(t, giant, v1alpha1.ReasonInvalidStoreConfig)
	g.Expect(msg).To(ContainSubstring("lease ID of"))
	g.Expect(len(msg)).To(BeNumerically("<", 4096), "the lease ID reached the status")

	// The state rewrite loop, on an ExternalSecret with a Password.
	g.Expect(env.Client.Create(ctx, &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: ns},
		Spec: v1alpha1.PasswordSpec{Length: 24}})).To(Succeed())
	target := generatedES(ns, "app", v1alpha1.GeneratorRef{Kind: string(v1alpha1.GeneratorKindPassword), Name: "pw"})
	g.Expect(env.Client.Create(ctx, target)).To(Succeed())
	waitES(t, target, v1alpha1.ReasonSecretSynced)
	retired := make([]any, 0, 1700)
	for i := range cap(retired) {
		retired = append(retired, map[string]any{"lease": map[string]any{"id": fmt.Sprintf("database/creds/x/%0500d", i)}})
	}
	junk, err := json.Marshal(map[string]any{"values": map[string]any{}, "hash": "junk", "retired": retired})
	g.Expect(err).NotTo(HaveOccurred())
	for i := range 20 {
		state := &corev1.Secret{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: stateName(target)}, state)).To(Succeed())
		state.Data = map[string][]byte{"dataFrom.9": junk}
		if err := env.Client.Update(ctx, state); err != nil {
			continue // the operator wrote it meanwhile
		}
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(target), target)).To(Succeed())
		target.Annotations = map[string]string{"baosync.io/force-sync": fmt.Sprint(i)}
		g.Expect(env.Client.Update(ctx, target)).To(Succeed())
		time.Sleep(250 * time.Millisecond)
	}
	g.Eventually(func() bool { return hasEventReason(ctx, ns, "LeaseRecordRejected") }, 30*time.Second, 250*time.Millisecond).Should(BeTrue())
	waitES(t, target, v1alpha1.ReasonSecretSynced)
	expectOperatorHealthy(t)
}
