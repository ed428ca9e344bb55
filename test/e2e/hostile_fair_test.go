package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Issue 21, round two of the hostile-tenant suite: one namespace must not take
// a shared store, the operator's queues or its memory from the others.

// Item 2: a tenant whose reads of a shared store fail (answers past the cap,
// as several pushed keys of one remote secret can make them) opens no breaker
// for the other namespaces of that store.
func TestHostile_OneNamespacesFailingReadsDoNotStopASharedStoreForOthers(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	css := sharedStore(t)
	noisy := tenant(t, "oversized")
	huge := map[string]any{} // several keys, as several pushes build it: past the 4 MiB answer cap
	for i := range 6 {
		huge[fmt.Sprint("k", i)] = strings.Repeat("x", 900<<10)
	}
	g.Expect(env.KVPut(ctx, "secret/oversized/"+noisy, huge)).To(Succeed())
	var failing *v1alpha1.ExternalSecret
	for i := range 5 {
		e := es(noisy, fmt.Sprintf("big-%d", i), css, "oversized/"+noisy, "k0")
		e.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
		e.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
		failing = e
	}
	waitES(t, failing, v1alpha1.ReasonProviderUnavailable)

	victim := bystandersSync(t, css, "bystander", 5, "v", time.Second) // spread over the noisy tenant's failures
	g.Expect(hasEventReason(ctx, victim, v1alpha1.ReasonProviderUnavailable)).To(BeFalse(),
		"another namespace's failures stopped the bystander's reads")
	expectOperatorHealthy(t)
}

// Item 3: a tenant's server that sends a big answer and then trickles holds
// none of the slots in which big answers are decoded; another namespace's big
// reads go on.
func TestHostile_ASlowBigAnswerDoesNotHoldUpOthersBigReads(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	evil := newAttacker()
	defer evil.close()
	ns := tenant(t, "trickle")
	path := "secret"
	tenantStore(t, ns, "evil", evil.srv.URL, "tenant-token-not-a-secret", &path)
	for i := range 4 {
		e := es(ns, fmt.Sprintf("trickle-%d", i), "evil", "trickle", "k")
		e.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
	}
	g.Eventually(func() int { return countPath(evil, "/v1/secret/data/trickle") }, 30*time.Second, 100*time.Millisecond).
		Should(BeNumerically(">=", 2), "the tenant's big answers are under way")

	css := sharedStore(t)
	victim := bystandersSync(t, css, "bigreader", 3, strings.Repeat("v", 400<<10), 0)
	g.Expect(hasEventReason(ctx, victim, v1alpha1.ReasonProviderUnavailable)).To(BeFalse(),
		"a trickling server held up another namespace's big reads")
	expectOperatorHealthy(t)
}

// Item 1: Secrets a tenant labels baosync.io/managed=true, of any size, do not
// fill the operator's cache: it keeps their metadata and a hash of their data.
func TestHostile_LabelledSecretsDoNotFillTheOperatorsMemory(t *testing.T) {
	op := operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenant(t, "labelled")
	victimSyncs(t) // the operator is warm
	before := op.RSSMiB()
	const n, size = 150, 1000 << 10 // 150 MiB of data, more than half the operator's memory limit
	value := []byte(strings.Repeat("f", size))
	for i := range n {
		g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("filler-", i), Namespace: ns,
			Labels:      map[string]string{"baosync.io/managed": "true"},
			Annotations: map[string]string{"baosync.io/external-secret": "app"}},
			Data: map[string][]byte{"v": value}})).To(Succeed())
	}
	t.Cleanup(func() { _ = env.Client.DeleteAllOf(context.Background(), &corev1.Secret{}, client.InNamespace(ns)) })
	victimSyncs(t) // the filler Secrets reached the cache before this sync
	time.Sleep(2 * time.Second)
	after := op.RSSMiB()
	t.Logf("operator RSS %.0f MiB before and %.0f MiB after a tenant's %d MiB of labelled Secrets", before, after, n*size>>20)
	g.Expect(after-before).To(BeNumerically("<", 48), "the tenant's labelled Secrets are held in the operator's memory")
	expectOperatorHealthy(t)
}

// Item 4: a namespace of generator-only ExternalSecrets at refreshInterval 1s
// (they read no server, so no store's share bounds them) is held to its share
// of syncs, makes new values at most once a minute, and does not keep another
// namespace from syncing.
func TestHostile_GeneratorOnlyObjectsAtOneSecondDoNotFloodTheOperator(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	css := sharedStore(t)
	noisy := tenant(t, "flood")
	g.Expect(env.Client.Create(ctx, &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: noisy},
		Spec: v1alpha1.PasswordSpec{Length: 16}})).To(Succeed())
	const n = 300
	for i := range n {
		e := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("gen-", i), Namespace: noisy},
			Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: css, Kind: v1alpha1.SecretStoreKindCluster},
				RefreshInterval: &metav1.Duration{Duration: time.Second},
				DataFrom:        []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{GeneratorRef: &v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}}}}}}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
	}
	bystandersSync(t, css, "neighbour", 3, "v", 0)
	g.Eventually(func() bool { return hasEventReason(ctx, noisy, v1alpha1.ReasonThrottled) }, 60*time.Second, time.Second).
		Should(BeTrue(), "the noisy namespace must be held to its share of syncs")

	first := &corev1.Secret{}
	g.Eventually(func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: noisy, Name: "gen-0"}, first)
	}, 60*time.Second, time.Second).Should(Succeed())
	time.Sleep(5 * time.Second) // five refresh intervals
	again := &corev1.Secret{}
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(first), again)).To(Succeed())
	g.Expect(again.ResourceVersion).To(Equal(first.ResourceVersion), "a Password's values were made again within a minute")
	expectOperatorHealthy(t)
}

// countPath counts the requests a has received for path.
func countPath(a *attacker, path string) int {
	n := 0
	for _, r := range a.received() {
		if r.path == path {
			n++
		}
	}
	return n
}
