package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// TestFaults_VaultOutagesLeaveSecretsUntouchedAndRecover puts a proxy between
// the operator and Vault and breaks it in each way a server can fail.
func TestFaults_VaultOutagesLeaveSecretsUntouchedAndRecover(t *testing.T) {
	// Not parallel: it counts requests and times the back-off.
	cases := []struct {
		name  string
		apply func(p *testenv.Proxy)
	}{
		{name: "unreachable", apply: func(p *testenv.Proxy) { p.SetFault(testenv.Refuse) }},
		{name: "answering 500", apply: func(p *testenv.Proxy) { p.SetFault(testenv.ServerError) }},
		{name: "answering malformed JSON", apply: func(p *testenv.Proxy) { p.SetFault(testenv.Malformed) }},
		{name: "slower than the request timeout", apply: func(p *testenv.Proxy) { p.SetDelay(5 * time.Second) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			proxy, err := testenv.StartProxy(env.Vault.Addr)
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = proxy.Stop() }()
			ns := newNamespace(t)
			tokenStore(t, ns, "vault", func(v *v1alpha1.VaultProvider) { v.Server = proxy.Addr })
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"k": leak.Secret("survives-outage")})
			createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), withRefresh(time.Second)))
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
			before := getSecret(t, ns, "app")

			tc.apply(proxy)
			start := proxy.Counts()
			waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonProviderUnavailable)
			// For four refresh intervals of outage, the Secret stays as it was and
			// the retries back off (a handful of requests, not a hot loop). The
			// check runs all along, so the first write or the 30th request fails
			// the test at once.
			g.Consistently(func(g Gomega) {
				after := getSecret(t, ns, "app")
				g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "the Secret was written during the outage")
				g.Expect(after.Data).To(Equal(before.Data))
				g.Expect(total(proxy.Counts())-total(start)).To(BeNumerically("<", 30), "requests during the outage")
			}, 4*time.Second, 200*time.Millisecond).Should(Succeed())

			proxy.SetFault(testenv.Pass)
			proxy.SetDelay(0)
			putKV(t, path, map[string]any{"k": leak.Secret("after-outage")})
			g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
				Should(Equal(map[string]string{"k": "after-outage"}))
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
		})
	}
}

// TestFaults_ARestartedVaultIsLoggedIntoAgain restarts a Vault server (its
// data and tokens are gone) and checks that baosync logs in again by itself.
func TestFaults_ARestartedVaultIsLoggedIntoAgain(t *testing.T) {
	// Not parallel: it stops and restarts a Vault server.
	g := NewWithT(t)
	ctx := context.Background()
	port, err := testenv.FreePortPair()
	g.Expect(err).NotTo(HaveOccurred())
	dir := t.TempDir()
	start := func(value string) *testenv.VaultServer {
		v, err := testenv.StartVault(ctx, testenv.VaultOptions{Dir: dir, Port: port})
		g.Expect(err).NotTo(HaveOccurred())
		c, err := v.Client()
		g.Expect(err).NotTo(HaveOccurred())
		for _, w := range []struct {
			path string
			data map[string]any
		}{
			{"sys/policies/acl/read", map[string]any{"policy": testenv.ReadPolicy}},
			{"sys/auth/userpass", map[string]any{"type": "userpass"}},
			{"auth/userpass/users/op", map[string]any{"password": "restart-pw", "token_policies": "read"}},
			{"secret/data/restart", map[string]any{"data": map[string]any{"k": value}}},
		} {
			_, err := c.Logical().WriteWithContext(ctx, w.path, w.data)
			g.Expect(err).NotTo(HaveOccurred())
		}
		return v
	}
	v := start(leak.Secret("before-restart"))
	ns := newNamespace(t)
	createSecret(t, ns, "up", map[string]string{"password": leak.Secret("restart-pw")})
	createStore(t, ns, "vault", v1alpha1.VaultAuth{UserPass: &v1alpha1.VaultUserPassAuth{Username: "op",
		SecretRef: v1alpha1.SecretKeySelector{Name: "up", Key: "password"}}}, func(p *v1alpha1.VaultProvider) { p.Server = v.Addr })
	createES(t, newES(ns, "app", "vault", withData("k", "restart", "k"), withRefresh(time.Second)))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)

	g.Expect(v.Stop()).To(Succeed())
	v = start(leak.Secret("after-restart"))
	defer func() { _ = v.Stop() }()
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "after-restart"}))
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
