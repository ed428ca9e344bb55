package e2e

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Item 1: the operator's own identity never reaches a tenant's server.
func TestHostile_StoresCannotLogInWithTheOperatorsIdentity(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	evil := newAttacker()
	defer evil.close()
	ns := tenant(t, "own-id")
	own := v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "any"}}

	err := env.Client.Create(ctx, &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "steal", Namespace: ns},
		Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: evil.srv.URL, Auth: own}}}})
	g.Expect(err).To(MatchError(ContainSubstring("cannot log in with the operator's own identity")), "admission must refuse it")

	// An admin's ClusterSecretStore may, but only when the operator was started to allow it.
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "own-id-" + ns},
		Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: evil.srv.URL, Auth: own}}}}
	g.Expect(env.Client.Create(ctx, css)).To(Succeed())
	defer func() { _ = env.Client.Delete(ctx, css) }()
	msg := waitStore(t, css, v1alpha1.ReasonInvalidStoreConfig)
	g.Expect(msg).To(ContainSubstring("--cluster-store-operator-identity"))
	g.Expect(evil.credentials()).To(BeEmpty(), "no token may reach the attacker")
}

// Item 2: tokens requested for tenants' ServiceAccounts are never API credentials.
func TestHostile_TokensSentToAStoreAreNeverKubernetesAPICredentials(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	evil := newAttacker()
	defer evil.close()
	ns := tenant(t, "aud")
	apiAud := apiServerAudience(t, ns)
	g.Expect(env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}})).To(Succeed())
	stores := map[string]struct {
		auth   v1alpha1.VaultAuth
		reason string
	}{
		"default-audience": {v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r",
			ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "app"}}}, v1alpha1.ReasonAuthFailed},
		"api-audience": {v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r",
			ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "app", Audiences: []string{apiAud}}}}, v1alpha1.ReasonInvalidStoreConfig},
		"jwt-api-audience": {v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{Role: "r",
			KubernetesServiceAccountToken: &v1alpha1.VaultKubernetesServiceAccountTokenAuth{
				ServiceAccountRef: v1alpha1.ServiceAccountSelector{Name: "app"}, Audiences: []string{apiAud}}}}, v1alpha1.ReasonInvalidStoreConfig},
	}
	for name, s := range stores {
		store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: evil.srv.URL, Auth: s.auth}}}}
		g.Expect(env.Client.Create(ctx, store)).To(Succeed())
		msg := waitStore(t, store, s.reason)
		t.Logf("%s: %s", name, msg)
	}
	creds := evil.credentials()
	g.Expect(creds).NotTo(BeEmpty(), "the default-audience store logs in, so the attacker sees its token")
	for _, jwt := range creds {
		g.Expect(acceptedByAPIServer(t, jwt)).To(BeFalse(), "the attacker received a token the API server accepts")
		claims := jwtClaims(t, jwt)
		g.Expect(claims["aud"]).To(Equal([]any{"vault"}))
		g.Expect(claims["exp"].(float64) - claims["iat"].(float64)).To(BeNumerically("<=", 600))
	}
}

// Item 5: a tenant's server cannot exhaust the operator's memory, nor steer
// the token to another host with a redirect.
func TestHostile_AServerCannotExhaustMemoryOrRedirectTheToken(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	evil, elsewhere := newAttacker(), newAttacker()
	defer evil.close()
	defer elsewhere.close()
	evil.redirectTo = elsewhere.srv.URL
	ns := tenant(t, "bomb")
	path := "secret"
	tenantStore(t, ns, "evil", evil.srv.URL, "tenant-token-not-a-secret", &path)
	for _, key := range []string{"big", "gzip", "redirect"} {
		e := es(ns, key, "evil", key, "k")
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
		msg := waitES(t, e, v1alpha1.ReasonProviderUnavailable)
		t.Logf("%s: %s", key, msg)
	}
	g.Expect(elsewhere.received()).To(BeEmpty(), "the redirect target must receive nothing")
	expectOperatorHealthy(t)
	victimSyncs(t)
}

// Item 6 (server side): a server that echoes the login request into its error
// text does not get it into status, events or logs.
func TestHostile_ServerErrorsDoNotEchoCredentials(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	evil := newAttacker()
	defer evil.close()
	ns := tenant(t, "echo")
	const password = "tenant-password-echoed-back"
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "up", Namespace: ns},
		StringData: map[string]string{"password": password}})).To(Succeed())
	store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: ns},
		Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: evil.srv.URL,
			Auth: v1alpha1.VaultAuth{UserPass: &v1alpha1.VaultUserPassAuth{Username: "u", SecretRef: v1alpha1.SecretKeySelector{Name: "up", Key: "password"}}}}}}}
	g.Expect(env.Client.Create(ctx, store)).To(Succeed())
	msg := waitStore(t, store, v1alpha1.ReasonAuthFailed)
	t.Logf("store: %s", msg)
	g.Expect(len(msg)).To(BeNumerically("<", 1024))
	expectNoLeak(t, ns, password)
}

// Item 9: smaller holes.
func TestHostile_ClusterStoreReferencesMustNameTheirNamespace(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	path := "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "no-ns-" + tenant(t, "cssref")},
		Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}}}}}
	g.Expect(env.Client.Create(ctx, css)).To(Succeed())
	defer func() { _ = env.Client.Delete(ctx, css) }()
	g.Expect(waitStore(t, css, v1alpha1.ReasonInvalidStoreConfig)).To(ContainSubstring("must name a namespace"))
}

func TestHostile_MetricsNeedAuthentication(t *testing.T) {
	op := operator(t)
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the test server's self-signed certificate
	NewWithT(t).Eventually(func() int {
		resp, err := cl.Get("https://" + op.MetricsAddr + "/metrics")
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}, "30s", "200ms").Should(BeElementOf(http.StatusUnauthorized, http.StatusForbidden))
}
