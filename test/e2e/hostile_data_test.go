package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Item 3: KV reads stay inside KV mounts, so a store's own token (or anything
// under sys/, identity/, cubbyhole/) can never be copied into a Secret.
func TestHostile_ReadsCannotLeaveTheKVMounts(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenant(t, "kvpath")
	g.Expect(env.KVPut(ctx, "secret/hostile/"+ns, map[string]any{"k": "first"})).To(Succeed())
	tenantStore(t, ns, "vault", env.Vault.Addr, tenantToken(t), nil) // no path: keys name their mount
	e := es(ns, "app", "vault", "secret/hostile/"+ns, "k")
	g.Expect(env.Client.Create(ctx, e)).To(Succeed())
	waitES(t, e, v1alpha1.ReasonSecretSynced)
	before := &corev1.Secret{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, before)).To(Succeed())

	for _, key := range []string{"auth/token/lookup-self", "sys/mounts", "cubbyhole/x", "identity/entity/name/x",
		"secret/../auth/token/lookup-self", "secret/%2e%2e/sys/mounts", "secret/./hostile/" + ns} {
		t.Run(key, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(e), e)).To(Succeed())
			e.Spec.Data[0].RemoteRef = v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: "id"}
			g.Expect(env.Client.Update(ctx, e)).To(Succeed())
			t.Logf("%s", waitES(t, e, v1alpha1.ReasonInvalidSpec))
			after := &corev1.Secret{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, after)).To(Succeed())
			g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "the target Secret must stay untouched")
		})
	}
	find := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "find", Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
			DataFrom: []v1alpha1.ExternalSecretDataFromRemoteRef{{Find: &v1alpha1.ExternalSecretFind{Path: ptr("secret/../sys")}}}}}
	g.Expect(env.Client.Create(ctx, find)).To(Succeed())
	waitES(t, find, v1alpha1.ReasonInvalidSpec)
}

// Item 4: a template cannot freeze or crash the operator.
func TestHostile_TemplatesCannotFreezeOrCrashTheOperator(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenant(t, "tmpl")
	g.Expect(env.KVPut(ctx, "secret/tmpl/"+ns, map[string]any{"pw": "x"})).To(Succeed())
	path := "secret"
	tenantStore(t, ns, "vault", env.Vault.Addr, tenantToken(t), &path)
	hostile := map[string]string{
		"nested-range":  `{{range 1000000000}}{{range 1000000000}}{{end}}{{end}}`,
		"exponential":   `{{define "x"}}{{template "x" .}}{{template "x" .}}{{end}}{{template "x" .}}`,
		"repeat":        `{{ $s := repeat 1000000 "x" }}{{ $t := repeat 1000000 $s }}{{ len $t }}`,
		"append-loop":   `{{ $l := list }}{{ range until 100000 }}{{ $l = append $l (repeat 100000 "y") }}{{ end }}{{ toJson $l | len }}`,
		"keys-in-loop":  `{{ range until 1000 }}{{ genPrivateKey "rsa" | len }}{{ end }}`,
		"bcrypt-loop":   `{{ range until 1000 }}{{ bcrypt "x" | len }}{{ end }}`,
		"printf-width":  `{{ printf "%999999999d" 1 }}`,
		"until-huge":    `{{ until 1000000000 | len }}`,
		"indent-bomb":   `{{ repeat 100000 "\n" | indent 100000 | len }}`,
		"derive-loop":   `{{ range until 1000 }}{{ derivePassword 1 "long" "p" "u" "s" | len }}{{ end }}`,
		"random-length": `{{ randAlphaNum 1000000000 | len }}`,
	}
	var all []*v1alpha1.ExternalSecret
	for name, text := range hostile {
		e := es(ns, name, "vault", "tmpl/"+ns, "pw")
		e.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Data: map[string]string{"out": text}}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
		all = append(all, e)
	}
	for _, e := range all {
		t.Logf("%s: %s", e.Name, waitES(t, e, v1alpha1.ReasonTemplateError))
	}
	victimSyncs(t)
	expectOperatorHealthy(t)
}

// Item 6: errors carry no value in any encoding.
func TestHostile_TemplateErrorsCarryNoValueInAnyEncoding(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenant(t, "enc")
	const value = "the-tenant-value-1234"
	g.Expect(env.KVPut(ctx, "secret/enc/"+ns, map[string]any{"pw": value})).To(Succeed())
	path := "secret"
	tenantStore(t, ns, "vault", env.Vault.Addr, tenantToken(t), &path)
	for i, text := range []string{`{{ .k | b64enc | fail }}`, `{{ printf "%x" .k | fail }}`, `{{ index (dict .k 1) "nope" | toString | fail }}`,
		`{{ .k | upper | fail }}`, `{{ .k | toJson | fail }}`, `{{ fail (printf "%s-%s" .k (.k | b64enc)) }}`} {
		e := es(ns, fmt.Sprintf("enc-%d", i), "vault", "enc/"+ns, "pw")
		e.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Data: map[string]string{"out": text}}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
		t.Logf("%s: %s", text, waitES(t, e, v1alpha1.ReasonTemplateError))
	}
	expectNoLeak(t, ns, value, "THE-TENANT-VALUE-1234")
}

// Item 7: tenants sharing a ClusterSecretStore cannot overwrite or delete
// what another tenant pushed.
func TestHostile_TenantsCannotOverwriteEachOthersPushedSecrets(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	a, b := tenant(t, "push-a"), tenant(t, "push-b")
	css := sharedStore(t)
	remote := "shared/" + a
	push := func(ns, value string, policy string) *v1alpha1.PushSecret {
		g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: ns},
			StringData: map[string]string{"pw": value}})).To(Succeed())
		ps := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: ns}, Spec: v1alpha1.PushSecretSpec{
			SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: css, Kind: v1alpha1.SecretStoreKindCluster}},
			Selector:        v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
			DeletionPolicy:  policy,
			Data:            []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "pw", RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remote, Property: "pw"}}}}}}
		g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
		return ps
	}
	psA := push(a, "from-a", "None")
	waitReason(t, psA, func() []metav1.Condition { return psA.Status.Conditions }, v1alpha1.ReasonPushed)
	psB := push(b, "from-b", "Delete")
	waitReason(t, psB, func() []metav1.Condition { return psB.Status.Conditions }, v1alpha1.ReasonRemoteNotOwned)
	g.Expect(env.Client.Delete(ctx, psB)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(psB), &v1alpha1.PushSecret{}))
	}, 30*time.Second, 200*time.Millisecond).Should(BeTrue(), "B's finalizer must let go without deleting A's secret")
	sec, err := env.VaultClient.Logical().Read("secret/data/" + remote)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sec.Data["data"]).To(Equal(map[string]any{"pw": "from-a"}), "tenant B overwrote or deleted tenant A's secret")
	md, err := env.VaultClient.Logical().Read("secret/metadata/" + remote)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(md.Data["custom_metadata"]).To(HaveKeyWithValue("baosync-owner", a+"/push"))
}

// Item 8: one namespace cannot starve a shared store.
func TestHostile_OneNamespaceCannotStarveASharedStore(t *testing.T) {
	operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	css := sharedStore(t)
	greedy := tenant(t, "greedy")
	tooFast := es(greedy, "too-fast", css, "x", "k")
	tooFast.Spec.RefreshInterval = &metav1.Duration{Duration: time.Nanosecond}
	g.Expect(env.Client.Create(ctx, tooFast)).To(MatchError(ContainSubstring("at least 1s")))

	const n = 80
	for i := range n {
		p := fmt.Sprintf("greedy/%s/%d", greedy, i)
		g.Expect(env.KVPut(ctx, "secret/"+p, map[string]any{"k": "v"})).To(Succeed())
		e := es(greedy, fmt.Sprintf("g-%d", i), css, p, "k")
		e.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
		e.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
	}
	start := time.Now()
	bystandersSync(t, css, "patient", 3, "v", 0)
	t.Logf("the patient tenant synced in %.1fs while the greedy one hammered the store", time.Since(start).Seconds())
	g.Eventually(func() bool { return hasEventReason(ctx, greedy, v1alpha1.ReasonThrottled) }, 60*time.Second, time.Second).
		Should(BeTrue(), "the greedy namespace must be throttled to its share")
	expectOperatorHealthy(t)
}

// Item 8, the waiting side: a namespace whose refreshes ask more of a shared
// store than its share (objects of three entries refreshing every second: 60
// reads a second within its 20 syncs, against a share of 20 reads) keeps its
// objects in sync Ready while their refreshes wait for the share. A refresh
// that waits writes no status: Ready=False and back would cost two writes.
func TestHostile_RefreshesWaitingForTheNamespacesShareKeepObjectsReady(t *testing.T) {
	op := operator(t)
	g := NewWithT(t)
	ctx := context.Background()
	css := sharedStore(t)
	busy := tenant(t, "busy")
	const n = 20
	for i := range n {
		e := es(busy, fmt.Sprintf("b-%d", i), css, "", "")
		e.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
		e.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
		e.Spec.Data = nil
		for _, k := range []string{"a", "b", "c"} {
			p := fmt.Sprintf("busy/%s/%d/%s", busy, i, k)
			g.Expect(env.KVPut(ctx, "secret/"+p, map[string]any{"k": "v"})).To(Succeed())
			e.Spec.Data = append(e.Spec.Data, v1alpha1.ExternalSecretData{SecretKey: k, RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: p, Property: "k"}})
		}
		g.Expect(env.Client.Create(ctx, e)).To(Succeed())
	}
	// ready returns the resource versions of the objects that are Ready.
	ready := func() map[string]string {
		list := &v1alpha1.ExternalSecretList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(busy))).To(Succeed())
		out := map[string]string{}
		for i := range list.Items {
			if c := meta.FindStatusCondition(list.Items[i].Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue {
				out[list.Items[i].Name] = list.Items[i].ResourceVersion
			}
		}
		return out
	}
	g.Eventually(ready, 2*time.Minute, time.Second).Should(HaveLen(n))
	logged := len(readFile(op.LogPath))
	synced := ready()
	g.Consistently(ready, 5*time.Second, 250*time.Millisecond).Should(Equal(synced),
		"a refresh waiting for the namespace's share turned an object in sync Ready=False, or wrote its status")
	waited := 0 // refreshes that waited meanwhile: every object was in sync, so no first sync did
	for _, line := range strings.Split(readFile(op.LogPath)[logged:], "\n") {
		if strings.Contains(line, `"namespace":"`+busy+`"`) && strings.Contains(line, `"reason":"Throttled"`) {
			waited++
		}
	}
	t.Logf("%d refreshes waited for the namespace's share while every object stayed Ready with its status unwritten", waited)
	g.Expect(waited).To(BeNumerically(">", 0), "no refresh waited: the test no longer tests the wait")
	expectOperatorHealthy(t)
}

// sharedStore creates (once per test) an admin's ClusterSecretStore on the
// dev server's secret/ mount with the root token.
func sharedStore(t *testing.T) string {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenant(t, "admin")
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: ns},
		StringData: map[string]string{"token": env.Vault.Token}})).To(Succeed())
	path := "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "shared-" + ns},
		Spec: v1alpha1.SecretStoreSpec{Controller: hostileClass, Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "root", Key: "token", Namespace: &ns}}}}}}
	g.Expect(env.Client.Create(ctx, css)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), css) })
	waitStore(t, css, v1alpha1.ReasonStoreValid)
	return css.Name
}

func hasEventReason(ctx context.Context, ns, reason string) bool {
	list := &eventsv1.EventList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return false
	}
	for _, e := range list.Items {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
