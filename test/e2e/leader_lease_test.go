package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestLeaderElection_ANewLeaderKeepsTheDynamicSecretsLease: a database
// credential issued by one replica is kept by the replica that takes over
// after it stops: the new leader picks the lease up from the cluster, serves
// the same working credential through a forced sync without issuing another,
// and revokes the lease when the ExternalSecret is deleted. The generator logs
// in with a token the user supplies.
func TestLeaderElection_ANewLeaderKeepsTheDynamicSecretsLease(t *testing.T) {
	newLeaderKeepsLease(t, "lease", func(*testing.T, string) v1alpha1.VaultAuth {
		return v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "dynamic-token", Key: "token"}}
	}, 0)
}

// TestLeaderElection_ANewLeaderKeepsTheLoginTokenThatOwnsTheLease: the same,
// with the generator logging in by AppRole as in production, with tokens of
// 20 s. The lease dies with the token that issued it, so the new leader takes
// that token over from the custody of the first and keeps renewing it: the
// same credential still logs in well after the token's TTL.
func TestLeaderElection_ANewLeaderKeepsTheLoginTokenThatOwnsTheLease(t *testing.T) {
	newLeaderKeepsLease(t, "lease-login", func(t *testing.T, ns string) v1alpha1.VaultAuth {
		roleID, secretID, err := env.DynamicAppRole(context.Background(), "dyn-"+ns, 20*time.Second, 10*time.Minute)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		NewWithT(t).Expect(env.Client.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "approle", Namespace: ns},
			StringData: map[string]string{"secret-id": secretID}})).To(Succeed())
		return v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{Path: "approle", RoleID: &roleID,
			SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}}
	}, 50*time.Second)
}

// newLeaderKeepsLease runs the leader change with the generator's auth, and
// logs in again with the credential after outlast.
func newLeaderKeepsLease(t *testing.T, prefix string, auth func(*testing.T, string) v1alpha1.VaultAuth, outlast time.Duration) {
	g := NewWithT(t)
	ctx := context.Background()
	first := replica(t, prefix+"-replica-a")
	waitLeader(t, first)

	ns := prefix + "-" + fmt.Sprint(time.Now().UnixNano()%100000)
	store(t, ns)
	pg, err := env.Postgres(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.DatabaseRole(ctx, "r-"+ns, time.Hour, 2*time.Hour)).To(Succeed())
	es := dynamicExternalSecret(t, ns, "database/creds/r-"+ns, auth(t, ns))

	issued := waitSynced(t, es, "")
	leaseID := issued.Status.Generated[0].LeaseID
	creds := secretData(t, ns)
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).To(Succeed())

	// The leader stops (it releases its lease); the second replica takes over.
	first.Stop()
	waitLeader(t, replica(t, prefix+"-replica-b"))

	// A forced sync on the new leader reads everything again and keeps the lease.
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(es), es)).To(Succeed())
	es.Annotations = map[string]string{"baosync.io/force-sync": "after-leader-change"}
	g.Expect(env.Client.Update(ctx, es)).To(Succeed())
	resynced := waitSynced(t, es, issued.Status.SyncedResourceVersion)
	g.Expect(resynced.Status.Generated[0].LeaseID).To(Equal(leaseID), "the new leader issued another credential")
	g.Expect(secretData(t, ns)).To(Equal(creds))
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).To(Succeed())
	g.Expect(credentialEvents(t, ns)).To(BeZero(), "a credential was replaced")
	if outlast > 0 {
		time.Sleep(outlast) // past the login token's TTL, twice over
		g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).To(Succeed(), "the login token that owns the lease expired")
		g.Expect(credentialEvents(t, ns)).To(BeZero(), "a credential was replaced")
	}

	// The new leader revokes the lease with the ExternalSecret.
	g.Expect(env.Client.Delete(ctx, es)).To(Succeed())
	g.Eventually(func() bool {
		_, found, err := env.LeaseLookup(ctx, leaseID)
		return err == nil && !found
	}, 60*time.Second, 250*time.Millisecond).Should(BeTrue())
	g.Expect(pg.TryLogin(ctx, creds["username"], creds["password"])).NotTo(Succeed())
}

// dynamicExternalSecret creates, in ns, a VaultDynamicSecret on path logging
// in with auth (the Secret "dynamic-token" holds a token of the "dynamic"
// policy) and an ExternalSecret "app" of it.
func dynamicExternalSecret(t *testing.T, ns, path string, auth v1alpha1.VaultAuth) *v1alpha1.ExternalSecret {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	tok, err := env.VaultClient.Logical().WriteWithContext(ctx, "auth/token/create",
		map[string]any{"policies": []string{"dynamic"}, "ttl": "2h", "no_default_policy": true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dynamic-token", Namespace: ns},
		StringData: map[string]string{"token": tok.Auth.ClientToken}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: v1alpha1.VaultDynamicSecretSpec{Path: path, Provider: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Auth: auth}}})).To(Succeed())
	es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
			DataFrom: []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{
				GeneratorRef: &v1alpha1.GeneratorRef{Kind: "VaultDynamicSecret", Name: "db"}}}}}}
	g.Expect(env.Client.Create(ctx, es)).To(Succeed())
	return es
}

// waitSynced waits until es is Ready with a lease, synced at another
// resourceVersion than after.
func waitSynced(t *testing.T, es *v1alpha1.ExternalSecret, after string) *v1alpha1.ExternalSecret {
	t.Helper()
	cur := &v1alpha1.ExternalSecret{}
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(es), cur)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue(), "not Ready: %v", cur.Status.Conditions)
		g.Expect(cur.Status.SyncedResourceVersion).NotTo(Equal(after))
		g.Expect(cur.Status.Generated).NotTo(BeEmpty())
		g.Expect(cur.Status.Generated[0].LeaseID).NotTo(BeEmpty())
	}, 90*time.Second, 250*time.Millisecond).Should(Succeed())
	return cur
}

// secretData returns the data of the Secret "app" in ns as strings.
func secretData(t *testing.T, ns string) map[string]string {
	t.Helper()
	s := &corev1.Secret{}
	NewWithT(t).Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, s)).To(Succeed())
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

// credentialEvents counts the CredentialIssued events (a credential replaced by
// a new one) of the ExternalSecret "app" in ns.
func credentialEvents(t *testing.T, ns string) int {
	t.Helper()
	list := &eventsv1.EventList{}
	NewWithT(t).Expect(env.Client.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == "app" && e.Reason == "CredentialIssued" {
			n++
		}
	}
	return n
}
