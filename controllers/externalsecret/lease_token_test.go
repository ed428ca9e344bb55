package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestLease_CredentialsOutliveTheirShortLivedLoginTokenAcrossItsMaxTTL logs the
// generator in as production does, by AppRole or Kubernetes auth, with tokens
// far shorter lived than the database lease (TTL 8 s, max TTL 40 s, against a
// 20 s lease renewed up to 2 minutes). The server revokes every lease with the
// token that issued it, so the operator keeps that token alive between lease
// renewals, and once the token nears its max TTL issues the credential anew
// under a fresh login. Every credential the Secret holds, tried every second
// for a minute, logs in to PostgreSQL.
func TestLease_CredentialsOutliveTheirShortLivedLoginTokenAcrossItsMaxTTL(t *testing.T) {
	const ttl, maxTTL = 8 * time.Second, 40 * time.Second
	cases := []struct {
		name string
		auth func(t *testing.T, ns string) v1alpha1.VaultAuth
	}{{
		name: "AppRole",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			roleID, secretID, err := env.DynamicAppRole(context.Background(), "dyn-"+ns, ttl, maxTTL)
			NewWithT(t).Expect(err).NotTo(HaveOccurred())
			leak.Secret(secretID)
			createSecret(t, ns, "approle", map[string]string{"secret-id": secretID})
			return v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{Path: "approle", RoleID: &roleID,
				SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}}
		},
	}, {
		name: "Kubernetes",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			g := NewWithT(t)
			g.Expect(k8s.Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "db-user", Namespace: ns}})).To(Succeed())
			g.Expect(env.DynamicKubernetesRole(context.Background(), "dyn-"+ns, ns, "db-user", ttl, maxTTL)).To(Succeed())
			return v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "dyn-" + ns,
				ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "db-user", Audiences: []string{"vault"}}}}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // own namespace, database role, auth role and generator
			credentialsOutliveTheirToken(t, tc.auth)
		})
	}
}

// credentialsOutliveTheirToken runs the check with the generator's auth.
func credentialsOutliveTheirToken(t *testing.T, auth func(t *testing.T, ns string) v1alpha1.VaultAuth) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	role := dbRole(t, ns, 20*time.Second, 2*time.Minute)
	pg := postgres(t)
	tokenStore(t, ns, "vault")
	createDynamic(t, ns, "db", "database/creds/"+role, func(s *v1alpha1.VaultDynamicSecretSpec) {
		s.Provider.Auth = auth(t, ns)
		s.RotationGracePeriod = &metav1.Duration{Duration: 2 * time.Second}
	})
	es := newES(ns, "app", "vault", withGenerator("VaultDynamicSecret", "db"))
	createES(t, es)
	first := leaseOf(g, waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced))

	users, leases := map[string]bool{}, map[string]bool{first: true}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		data := secretData(t, ns, "app")
		leak.Secret(data["password"])
		users[data["username"]] = true
		g.Expect(pg.TryLogin(ctx, data["username"], data["password"])).To(Succeed(),
			"the Secret held a credential that its login token took down")
		cur := &v1alpha1.ExternalSecret{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(es), cur)).To(Succeed())
		g.Expect(cur.Status.Conditions).To(ContainElement(And(HaveField("Type", v1alpha1.ConditionReady),
			HaveField("Status", metav1.ConditionTrue))))
		leases[leaseOf(g, cur)] = true
	}
	g.Expect(len(users)).To(BeNumerically(">=", 2), "no credential was issued under a fresh login before the first token's max TTL")
	g.Expect(leases).To(HaveLen(len(users)))
	// The first lease went with its token, or was revoked after its grace.
	g.Eventually(func() bool { return leaseFound(t, first) }, eventually, poll).Should(BeFalse())
}
