package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestAPIServerRestart_SyncsResumeWithoutLostOrDuplicateWrites restarts the
// kube-apiserver under a running operator.
func TestAPIServerRestart_SyncsResumeWithoutLostOrDuplicateWrites(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	op, err := env.StartOperator(ctx, bin, "restart-operator")
	g.Expect(err).NotTo(HaveOccurred())
	defer op.Stop()
	ns := "restart-" + fmt.Sprint(time.Now().UnixNano()%100000)
	store(t, ns)
	g.Expect(env.KVPut(ctx, "secret/restart/app", map[string]any{"v": "before"})).To(Succeed())
	create := func(from, to int) {
		for i := from; i < to; i++ {
			g.Expect(env.Client.Create(ctx, &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("es-%d", i), Namespace: ns},
				Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
					RefreshInterval: &metav1.Duration{Duration: 2 * time.Second},
					Data:            []v1alpha1.ExternalSecretData{{SecretKey: "v", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "restart/app", Property: "v"}}}}})).To(Succeed())
		}
	}
	create(0, 50)
	g.Eventually(func() int { return readyCount(ctx, ns) }, 60*time.Second, 500*time.Millisecond).Should(Equal(50))

	g.Expect(env.RestartAPIServer(3 * time.Second)).To(Succeed())
	g.Expect(op.Exited()).To(BeFalse(), "the operator must survive the API server's restart")
	g.Expect(env.KVPut(ctx, "secret/restart/app", map[string]any{"v": "after"})).To(Succeed())
	create(50, 100)

	g.Eventually(func(g Gomega) {
		list := &corev1.SecretList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"baosync.io/managed": "true"})).To(Succeed())
		g.Expect(list.Items).To(HaveLen(100))
		for _, s := range list.Items {
			g.Expect(string(s.Data["v"])).To(Equal("after"), "Secret %s", s.Name)
		}
	}, 90*time.Second, time.Second).Should(Succeed())
	g.Eventually(func() int { return readyCount(ctx, ns) }, 60*time.Second, 500*time.Millisecond).Should(Equal(100))
}

// store creates namespace ns with a token SecretStore "vault".
func store(t *testing.T, ns string) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(env.TokenStore(ctx, ns, "vault")).To(Succeed())
}
