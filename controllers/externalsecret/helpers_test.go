package externalsecret

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

const (
	eventually = 30 * time.Second
	poll       = 100 * time.Millisecond
)

// testCtx returns a context bounded for one test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T, labels ...string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t-%08x", rand.Uint32()), Labels: map[string]string{}}}
	for i := 0; i+1 < len(labels); i += 2 {
		ns.Labels[labels[i]] = labels[i+1]
	}
	NewWithT(t).Expect(k8s.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

// kvPath returns a KV v2 path unique to the test.
func kvPath(t *testing.T, name string) string {
	return fmt.Sprintf("secret/%s/%08x/%s", t.Name(), rand.Uint32(), name)
}

// putKV writes data at a secret/ path with the root token.
func putKV(t *testing.T, path string, data map[string]any) {
	t.Helper()
	NewWithT(t).Expect(env.KVPut(context.Background(), path, data)).To(Succeed())
}

// createSecret creates a Secret with string data.
func createSecret(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	NewWithT(t).Expect(k8s.Create(context.Background(), s)).To(Succeed())
}

// storeOpt modifies a store's Vault provider.
type storeOpt func(*v1alpha1.VaultProvider)

// tokenStore creates a SecretStore that logs in with the root token.
func tokenStore(t *testing.T, ns, name string, opts ...storeOpt) {
	t.Helper()
	createSecret(t, ns, name+"-token", map[string]string{"token": env.Vault.Token})
	createStore(t, ns, name, v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: name + "-token", Key: "token"}}, opts...)
}

// createStore creates a SecretStore on the dev server's secret/ KV v2 mount.
func createStore(t *testing.T, ns, name string, auth v1alpha1.VaultAuth, opts ...storeOpt) {
	t.Helper()
	path := "secret"
	v := &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2, Auth: auth}
	for _, o := range opts {
		o(v)
	}
	s := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: v}}}
	NewWithT(t).Expect(k8s.Create(context.Background(), s)).To(Succeed())
}

// esOpt modifies an ExternalSecret.
type esOpt func(*v1alpha1.ExternalSecret)

// newES builds an ExternalSecret on store with a one-minute refresh.
func newES(ns, name, store string, opts ...esOpt) *v1alpha1.ExternalSecret {
	es := &v1alpha1.ExternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{
			SecretStoreRef:  v1alpha1.SecretStoreRef{Name: store, Kind: v1alpha1.SecretStoreKindNamespaced},
			RefreshInterval: &metav1.Duration{Duration: time.Minute},
			Target:          v1alpha1.ExternalSecretTarget{CreationPolicy: v1alpha1.CreationPolicyOwner, DeletionPolicy: v1alpha1.DeletionPolicyRetain},
		},
	}
	for _, o := range opts {
		o(es)
	}
	return es
}

// withData adds a data entry.
func withData(secretKey, key, property string) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.Data = append(es.Spec.Data, v1alpha1.ExternalSecretData{SecretKey: secretKey,
			RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: property}})
	}
}

// createES creates an ExternalSecret.
func createES(t *testing.T, es *v1alpha1.ExternalSecret) {
	t.Helper()
	NewWithT(t).Expect(k8s.Create(context.Background(), es)).To(Succeed())
}

// waitReady waits until Ready has status and reason, and returns the object.
func waitReady(t *testing.T, ns, name string, status metav1.ConditionStatus, reason string) *v1alpha1.ExternalSecret {
	t.Helper()
	es := &v1alpha1.ExternalSecret{}
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, es)).To(Succeed())
		c := meta.FindStatusCondition(es.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil(), "no Ready condition yet")
		g.Expect(c.Status).To(Equal(status), "Ready: %s %s", c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), "Ready message: %s", c.Message)
		g.Expect(c.ObservedGeneration).To(Equal(es.Generation))
	}, eventually, poll).Should(Succeed())
	return es
}

// readyMessage returns the Ready condition's message.
func readyMessage(es *v1alpha1.ExternalSecret) string {
	if c := meta.FindStatusCondition(es.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		return c.Message
	}
	return ""
}

// getSecret reads a Secret, nil when it does not exist.
func getSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return s
}

// secretData waits until the Secret exists and returns its data as strings.
func secretData(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	var out map[string]string
	NewWithT(t).Eventually(func(g Gomega) {
		s := getSecret(t, ns, name)
		g.Expect(s).NotTo(BeNil())
		out = map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
	}, eventually, poll).Should(Succeed())
	return out
}

// update changes an object with retries on conflict.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change(obj)
		return k8s.Update(context.Background(), obj)
	}, eventually, poll).Should(Succeed())
}

// syncedApp sets up the common case: a namespace, a token store "vault", the
// value at a fresh KV path under property "k", and an ExternalSecret "app"
// mapping it to key "k", synced. It returns the namespace, the path and the
// ExternalSecret.
func syncedApp(t *testing.T, value string, opts ...esOpt) (string, string, *v1alpha1.ExternalSecret) {
	t.Helper()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret(value)})
	es := newES(ns, "app", "vault", append([]esOpt{withData("k", path[len("secret/"):], "k")}, opts...)...)
	createES(t, es)
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	return ns, path, es
}

// withRefresh sets spec.refreshInterval.
func withRefresh(d time.Duration) esOpt {
	return func(es *v1alpha1.ExternalSecret) { es.Spec.RefreshInterval = &metav1.Duration{Duration: d} }
}
