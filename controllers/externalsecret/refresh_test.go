package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestRefresh_PicksUpAChangedValueOnTheInterval(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("before-rotation")})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	putKV(t, path, map[string]any{"k": leak.Secret("after-rotation")})
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "after-rotation"}))
}

func TestRefresh_DoesNotWriteTheSecretWhenNothingChanged(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("steady")})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
	}))
	first := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	rv := getSecret(t, ns, "app").ResourceVersion
	// Three refreshes later the Secret is still the same object version.
	g.Eventually(func(g Gomega) {
		es := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
		g.Expect(es.Status.RefreshTime.Time).To(BeTemporally(">=", first.Status.RefreshTime.Add(3*time.Second)))
	}, eventually, poll).Should(Succeed())
	g.Expect(getSecret(t, ns, "app").ResourceVersion).To(Equal(rv))
}

func TestDrift_RestoresADeletedSecret(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("restore-me")})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Hour}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(k8s.Delete(context.Background(), getSecret(t, ns, "app"))).To(Succeed())
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "restore-me"}))
}

func TestDrift_RepairsAnEditedSecret(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("the-truth")})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: time.Hour}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	s := getSecret(t, ns, "app")
	update(t, s, func(s *corev1.Secret) { s.Data["k"] = []byte("tampered"); s.Data["extra"] = []byte("x") })
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "the-truth"}))
}

func TestForceSync_RefreshesAtOnceEvenWithRefreshIntervalZero(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("once")})
	es := newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.RefreshInterval = &metav1.Duration{Duration: 0}
	})
	createES(t, es)
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	putKV(t, path, map[string]any{"k": leak.Secret("forced")})
	g.Consistently(func() map[string]string { return secretData(t, ns, "app") }, 2*time.Second, 200*time.Millisecond).
		Should(Equal(map[string]string{"k": "once"}), "refreshInterval 0 must not refresh by itself")
	forceSync(t, es, "1")
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, eventually, poll).
		Should(Equal(map[string]string{"k": "forced"}))
}
