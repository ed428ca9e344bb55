package externalsecret

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestSyncWindows_AFreezeHoldsPeriodicRefreshesAndAnOpenWindowLetsThemRun:
// against the real Vault, objects refreshing every second; one under a deny
// window open all the time keeps its first value, one under an allow window
// open all the time follows the change. A change of the frozen object's
// spec still syncs.
func TestSyncWindows_AFreezeHoldsPeriodicRefreshesAndAnOpenWindowLetsThemRun(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	p := kvPath(t, "frozen")
	putKV(t, p, map[string]any{"k": "before"})
	always := []v1alpha1.SyncWindow{{Schedule: "* * * * *", Duration: metav1.Duration{Duration: time.Hour}}}
	for name, kind := range map[string]v1alpha1.SyncWindowKind{"frozen": v1alpha1.SyncWindowDeny, "open": v1alpha1.SyncWindowAllow} {
		createES(t, newES(ns, name, "vault", withRefresh(time.Second), withData("k", p[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
			es.Spec.SyncWindows = &v1alpha1.SyncWindows{Kind: kind, Windows: always}
		}))
		waitReady(t, ns, name, metav1.ConditionTrue, v1alpha1.ReasonSecretSynced) // a first sync is never held
	}
	putKV(t, p, map[string]any{"k": "after"})
	g.Eventually(func() map[string]string { return secretData(t, ns, "open") }, eventually, poll).Should(HaveKeyWithValue("k", "after"))
	g.Consistently(func() map[string]string { return secretData(t, ns, "frozen") }, 4*time.Second, poll).Should(HaveKeyWithValue("k", "before"))
	update(t, waitReady(t, ns, "frozen", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced), func(es *v1alpha1.ExternalSecret) {
		es.Spec.Data[0].SecretKey = "k2"
	})
	g.Eventually(func() map[string]string { return secretData(t, ns, "frozen") }, eventually, poll).Should(HaveKeyWithValue("k2", "after"))
}
