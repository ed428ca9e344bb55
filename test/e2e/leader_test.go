package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

var (
	env *testenv.Env
	bin string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(ctx context.Context, e *testenv.Env) (func(), error) {
		env = e
		var err error
		bin, err = testenv.BuildOperator(ctx, e.Dir)
		return func() {}, err
	}))
}

// TestLeaderElection_FollowerTakesOverAfterTheLeaderIsKilled starts two
// replicas, kills the leader with SIGKILL in the middle of a burst of syncs,
// and checks that the follower finishes every sync with complete Secrets.
func TestLeaderElection_FollowerTakesOverAfterTheLeaderIsKilled(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	leader := replica(t, "replica-a")
	waitLeader(t, leader)
	follower := replica(t, "replica-b")

	ns := "leader-" + fmt.Sprint(time.Now().UnixNano()%100000)
	store(t, ns)
	const n = 200
	for i := range 20 {
		g.Expect(env.KVPut(ctx, fmt.Sprintf("secret/leader/p-%d", i), map[string]any{"a": "x", "b": "y"})).To(Succeed())
	}
	for i := range n {
		key := fmt.Sprintf("leader/p-%d", i%20)
		g.Expect(env.Client.Create(ctx, &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("es-%d", i), Namespace: ns},
			Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
				Data: []v1alpha1.ExternalSecretData{
					{SecretKey: "a", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: "a"}},
					{SecretKey: "b", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: "b"}}}}})).To(Succeed())
		if i == n/4 {
			leader.Kill() // mid-burst
		}
	}
	killedAt := time.Now()
	g.Eventually(func() int { return readyCount(ctx, ns) }, 90*time.Second, 500*time.Millisecond).Should(Equal(n))
	t.Logf("all %d Ready %.1fs after the leader was killed", n, time.Since(killedAt).Seconds())
	g.Expect(readFile(follower.LogPath)).To(ContainSubstring("Successfully acquired lease"))

	secrets := &corev1.SecretList{}
	g.Expect(env.Client.List(ctx, secrets, client.InNamespace(ns), client.MatchingLabels{"baosync.io/managed": "true"})).To(Succeed())
	g.Expect(secrets.Items).To(HaveLen(n))
	for _, s := range secrets.Items {
		g.Expect(s.Data).To(Equal(map[string][]byte{"a": []byte("x"), "b": []byte("y")}), "Secret %s is partial", s.Name)
	}
}

// replica starts an operator process with leader election, stopped when the
// test ends.
func replica(t *testing.T, name string) *testenv.OperatorProcess {
	t.Helper()
	op, err := env.StartOperator(context.Background(), bin, name,
		"--leader-elect", "--leader-election-namespace", testenv.OperatorNamespace)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	t.Cleanup(op.Stop)
	return op
}

// waitLeader waits until the replica holds the leader-election lease.
func waitLeader(t *testing.T, op *testenv.OperatorProcess) {
	t.Helper()
	NewWithT(t).Eventually(func() string { return readFile(op.LogPath) }, 60*time.Second, 200*time.Millisecond).
		Should(ContainSubstring("Successfully acquired lease"))
}

func readyCount(ctx context.Context, ns string) int {
	list := &v1alpha1.ExternalSecretList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return -1
	}
	n := 0
	for _, es := range list.Items {
		if meta.IsStatusConditionTrue(es.Status.Conditions, v1alpha1.ConditionReady) {
			n++
		}
	}
	return n
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
