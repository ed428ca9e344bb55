package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// Issue 24: the real binary with --change-feed-listen and the real Vault's
// socket audit device pointed at it. Values changed while the operator is
// down reach the Secrets when it is back (the stream's catch-up), and a
// forged, oversized or flooding stream changes nothing and leaves memory flat.
func TestInstantUpdates_ARestartCatchesUpAndForgedStreamsChangeNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const class, token = "instant-suite", "e2e-audit-stream-token-0123456789"
	port, err := testenv.FreePortPair()
	g.Expect(err).NotTo(HaveOccurred())
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// One namespace only: the operator restarts with this test's objects to
	// catch up, not with every other test's leftovers.
	ns := tenant(t, "instant")
	start := func() *testenv.OperatorProcess {
		op, err := env.StartOperatorWithEnv(ctx, bin, "instant", []string{"GOMEMLIMIT=" + hostileMemLimit},
			"--controller-class", class, "--namespace", ns, "--change-feed-listen", addr)
		g.Expect(err).NotTo(HaveOccurred())
		return op
	}
	op := start()
	defer func() { op.Stop() }()
	disable, err := env.AuditStream(ctx, "e2e", addr, token)
	g.Expect(err).NotTo(HaveOccurred())
	defer disable()

	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: ns},
		StringData: map[string]string{"token": env.Vault.Token}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "stream", Namespace: ns},
		StringData: map[string]string{"token": token}})).To(Succeed())
	path := "secret"
	store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "vault", Namespace: ns}, Spec: v1alpha1.SecretStoreSpec{Controller: class,
		InstantUpdates: &v1alpha1.InstantUpdates{StreamTokenSecretRef: &v1alpha1.SecretKeySelector{Name: "stream", Key: "token"}},
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "root", Key: "token"}}}}}}
	g.Expect(env.Client.Create(ctx, store)).To(Succeed())
	key := "instant/" + ns
	g.Expect(env.KVPut(ctx, "secret/"+key, map[string]any{"k": "v1"})).To(Succeed())
	e := es(ns, "app", "vault", key, "k")
	e.Spec.RefreshInterval = &metav1.Duration{Duration: time.Hour}
	g.Expect(env.Client.Create(ctx, e)).To(Succeed())
	waitES(t, e, v1alpha1.ReasonSecretSynced)
	value := func() string {
		s := &corev1.Secret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, s); err != nil {
			return ""
		}
		return string(s.Data["k"])
	}
	g.Expect(env.KVPut(ctx, "secret/"+key, map[string]any{"k": "v2"})).To(Succeed())
	g.Eventually(value, 30*time.Second, 100*time.Millisecond).Should(Equal("v2"), "a change did not reach the Secret with the feed up")

	// Down: the change is not streamed to anyone. Back: the stream reconnects and catches up.
	op.Kill()
	g.Expect(env.KVPut(ctx, "secret/"+key, map[string]any{"k": "v3"})).To(Succeed())
	op = start()
	g.Eventually(value, 60*time.Second, 200*time.Millisecond).Should(Equal("v3"), "the change made while the operator was down was not caught up")

	// A forged stream: an oversized line, lines with a wrong token and garbage,
	// at full speed. Nothing changes, memory stays flat.
	time.Sleep(2 * time.Second)
	before := op.RSSMiB()
	conn, err := net.Dial("tcp", addr)
	g.Expect(err).NotTo(HaveOccurred())
	huge := token + ` {"type":"response","pad":"` + strings.Repeat("x", 8<<20) + `"}` + "\n"
	_, _ = conn.Write([]byte(huge))
	forged := fmt.Sprintf(`forged-token {"type":"response","request":{"operation":"update","mount_point":"secret/","mount_type":"kv","path":"secret/data/%s"}}`+"\n", key)
	batch := []byte(strings.Repeat(forged, 1000) + strings.Repeat("garbage line without json\n", 1000))
	for range 100 {
		if _, err := conn.Write(batch); err != nil {
			break
		}
	}
	_ = conn.Close()
	g.Consistently(value, 3*time.Second, 200*time.Millisecond).Should(Equal("v3"))
	after := op.RSSMiB()
	t.Logf("operator RSS %.1f -> %.1f MiB after an 8 MiB line and 200,000 forged lines", before, after)
	g.Expect(after-before).To(BeNumerically("<", 32), "the forged stream grew the operator's memory")
	g.Expect(op.Exited()).To(BeFalse())

	// The real stream still works.
	g.Expect(env.KVPut(ctx, "secret/"+key, map[string]any{"k": "v4"})).To(Succeed())
	g.Eventually(value, 30*time.Second, 100*time.Millisecond).Should(Equal("v4"))
	g.Expect(readFile(op.LogPath)).NotTo(ContainSubstring(token), "the stream token reached the log")
}
