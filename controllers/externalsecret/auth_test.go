package externalsecret

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestAuth_EveryMethodLogsInAndSyncs proves each auth method against the real
// server: the store turns Ready and an ExternalSecret syncs through it.
func TestAuth_EveryMethodLogsInAndSyncs(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name string
		auth func(t *testing.T, ns string) v1alpha1.VaultAuth
	}{{
		name: "token from a Secret",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			createSecret(t, ns, "tok", map[string]string{"token": env.Vault.Token})
			return v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}
		},
	}, {
		name: "AppRole with an inline role ID",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			roleID, secretID := appRole(t, "inline-"+ns)
			createSecret(t, ns, "approle", map[string]string{"secret-id": secretID})
			return v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{Path: "approle", RoleID: &roleID,
				SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}}
		},
	}, {
		name: "AppRole with the role ID from a Secret",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			roleID, secretID := appRole(t, "ref-"+ns)
			createSecret(t, ns, "approle", map[string]string{"role-id": roleID, "secret-id": secretID})
			return v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{
				RoleRef:   &v1alpha1.SecretKeySelector{Name: "approle", Key: "role-id"},
				SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}}
		},
	}, {
		name: "userpass",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			NewWithT(t).Expect(env.UserPass(context.Background(), "user-"+ns, leak.Secret("userpass-pw-"+ns))).To(Succeed())
			createSecret(t, ns, "up", map[string]string{"password": "userpass-pw-" + ns})
			return v1alpha1.VaultAuth{UserPass: &v1alpha1.VaultUserPassAuth{Path: "userpass", Username: "user-" + ns,
				SecretRef: v1alpha1.SecretKeySelector{Name: "up", Key: "password"}}}
		},
	}, {
		name: "JWT signed by a key the test generates",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			jwt := signedJWT(t, "role-"+ns)
			createSecret(t, ns, "jwt", map[string]string{"jwt": jwt})
			return v1alpha1.VaultAuth{Jwt: &v1alpha1.VaultJwtAuth{Path: "jwt", Role: "role-" + ns,
				SecretRef: &v1alpha1.SecretKeySelector{Name: "jwt", Key: "jwt"}}}
		},
	}, {
		name: "Kubernetes with a TokenRequest token reviewed by the API server",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			g := NewWithT(t)
			g.Expect(k8s.Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: ns}})).To(Succeed())
			g.Expect(env.KubernetesRole(context.Background(), "k8s-"+ns, ns, "reader")).To(Succeed())
			return v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "k8s-" + ns,
				ServiceAccountRef: &v1alpha1.ServiceAccountSelector{Name: "reader", Audiences: []string{"vault"}}}}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			createStore(t, ns, "vault", tc.auth(t, ns))
			waitStoreReady(t, ns, "vault", metav1.ConditionTrue, v1alpha1.ReasonStoreValid)
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"k": leak.Secret("auth-value-" + ns)})
			createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k")))
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
			g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{"k": "auth-value-" + ns}))
		})
	}
}

func TestAuth_WrongCredentialsMakeTheStoreNotReady(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name   string
		auth   func(t *testing.T, ns string) v1alpha1.VaultAuth
		reason string
	}{{
		name: "a revoked or unknown token",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			createSecret(t, ns, "tok", map[string]string{"token": "hvs.not-a-token"})
			return v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}
		},
		reason: v1alpha1.ReasonAuthFailed,
	}, {
		name: "a wrong AppRole secret ID",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			roleID, _ := appRole(t, "wrong-"+ns)
			createSecret(t, ns, "approle", map[string]string{"secret-id": "00000000-0000-0000-0000-000000000000"})
			return v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &roleID, SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}}
		},
		reason: v1alpha1.ReasonAuthFailed,
	}, {
		name: "a wrong userpass password",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			NewWithT(t).Expect(env.UserPass(context.Background(), "wrong-"+ns, "right-password")).To(Succeed())
			createSecret(t, ns, "up", map[string]string{"password": "wrong-password"})
			return v1alpha1.VaultAuth{UserPass: &v1alpha1.VaultUserPassAuth{Username: "wrong-" + ns, SecretRef: v1alpha1.SecretKeySelector{Name: "up", Key: "password"}}}
		},
		reason: v1alpha1.ReasonAuthFailed,
	}, {
		name: "an auth Secret that does not exist",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			return v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "missing", Key: "token"}}
		},
		reason: v1alpha1.ReasonAuthFailed,
	}, {
		name: "an auth Secret of another namespace",
		auth: func(t *testing.T, ns string) v1alpha1.VaultAuth {
			other := "default"
			return v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token", Namespace: &other}}
		},
		reason: v1alpha1.ReasonInvalidStoreConfig,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			createStore(t, ns, "vault", tc.auth(t, ns))
			waitStoreReady(t, ns, "vault", metav1.ConditionFalse, tc.reason)
		})
	}
}

// waitStoreReady waits until a SecretStore's Ready has status and reason.
func waitStoreReady(t *testing.T, ns, name string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		s := &v1alpha1.SecretStore{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)).To(Succeed())
		g.Expect(s.Status.Conditions).To(ContainElement(And(
			HaveField("Type", v1alpha1.ConditionReady), HaveField("Status", status), HaveField("Reason", reason))), "%+v", s.Status.Conditions)
	}, eventually, poll).Should(Succeed())
}

// appRole creates an AppRole role and returns its role ID and a secret ID.
func appRole(t *testing.T, role string) (string, string) {
	roleID, secretID, err := env.AppRole(context.Background(), role)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	leak.Secret(secretID)
	return roleID, secretID
}

// signedJWT configures jwt auth with a fresh RSA key and returns a token for role.
func signedJWT(t *testing.T, role string) string {
	g := NewWithT(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	g.Expect(err).NotTo(HaveOccurred())
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	g.Expect(err).NotTo(HaveOccurred())
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	g.Expect(env.JWTRole(context.Background(), pubPEM, "baosync-test", role, "workload-"+role)).To(Succeed())
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"iss": "baosync-test", "sub": "workload-" + role, "aud": "vault",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	g.Expect(err).NotTo(HaveOccurred())
	return leak.Secret(signing + "." + enc.EncodeToString(sig))
}

// TestAuth_ClusterStoreLogsInWithTheOperatorsOwnToken: with the operator's
// opt-in (the suite's provider sets WithOperatorIdentity), a ClusterSecretStore
// may log in with the operator's own projected token, whose audience is vault.
func TestAuth_ClusterStoreLogsInWithTheOperatorsOwnToken(t *testing.T) {
	// Not parallel: it writes the operator's own token file, which the whole suite shares.
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "operator-own", Namespace: ns}}
	g.Expect(k8s.Create(ctx, sa)).To(Succeed())
	g.Expect(env.KubernetesRole(ctx, "own-"+ns, ns, "operator-own")).To(Succeed())
	exp := int64(600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{"vault"}, ExpirationSeconds: &exp}}
	g.Expect(k8s.SubResource("token").Create(ctx, sa, tr)).To(Succeed())
	g.Expect(os.WriteFile(ownTokenFile, []byte(leak.Secret(tr.Status.Token)), 0o600)).To(Succeed())
	path := "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "own-" + ns}, Spec: v1alpha1.SecretStoreSpec{
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{Kubernetes: &v1alpha1.VaultKubernetesAuth{Path: "kubernetes", Role: "own-" + ns}}}}}}
	g.Expect(k8s.Create(ctx, css)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), css) })
	kv := kvPath(t, "app")
	putKV(t, kv, map[string]any{"k": leak.Secret("own-token-value-" + ns)})
	createES(t, newES(ns, "app", css.Name, withData("k", kv[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{"k": "own-token-value-" + ns}))
}
