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

func TestRefresh_PicksUpAChangedValueOnTheInterval(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	ns, path, _ := syncedApp(t, "before-rotation", withRefresh(time.Second))
	putKV(t, path, map[string]any{"k": leak.Secret("after-rotation")})
	NewWithT(t).Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "after-rotation"}))
}

func TestRefresh_WritesNeitherSecretNorStatusWhenNothingChanged(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns, path, es := syncedApp(t, "steady", withRefresh(time.Second))
	secretRV := getSecret(t, ns, "app").ResourceVersion
	esRV := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced).ResourceVersion
	// Three refresh intervals pass without a single write to either object.
	g.Consistently(func(g Gomega) {
		g.Expect(getSecret(t, ns, "app").ResourceVersion).To(Equal(secretRV))
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(es), es)).To(Succeed())
		g.Expect(es.ResourceVersion).To(Equal(esRV))
	}, 3500*time.Millisecond, 250*time.Millisecond).Should(Succeed())
	// ...and the refreshes were running all along: a new value arrives.
	putKV(t, path, map[string]any{"k": leak.Secret("changed-after-steady")})
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "changed-after-steady"}))
}

func TestDrift_RestoresADeletedSecret(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns, _, _ := syncedApp(t, "restore-me", withRefresh(time.Hour))
	g.Expect(k8s.Delete(context.Background(), getSecret(t, ns, "app"))).To(Succeed())
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "restore-me"}))
}

func TestDrift_RepairsAnEditedSecret(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	ns, _, _ := syncedApp(t, "the-truth", withRefresh(time.Hour))
	update(t, getSecret(t, ns, "app"), func(s *corev1.Secret) { s.Data["k"] = []byte("tampered"); s.Data["extra"] = []byte("x") })
	NewWithT(t).Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "the-truth"}))
}

func TestForceSync_RefreshesAtOnceEvenWithRefreshIntervalZero(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns, path, es := syncedApp(t, "value-before-force", withRefresh(0)) // a registered value must not be an English word the messages use
	putKV(t, path, map[string]any{"k": leak.Secret("forced")})
	g.Consistently(func() map[string]string { return secretData(t, ns, "app") }, 2*time.Second, 200*time.Millisecond).
		Should(Equal(map[string]string{"k": "value-before-force"}), "refreshInterval 0 must not refresh by itself")
	forceSync(t, es, "1")
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "forced"}))
}
