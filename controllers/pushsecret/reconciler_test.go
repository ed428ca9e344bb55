package pushsecret

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
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers/vault"
)

const wait = 30 * time.Second

// setup creates a namespace with a token store, the source Secret and returns
// the namespace and a fresh remote key.
func setup(t *testing.T, value string) (string, string) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := fmt.Sprintf("p-%08x", rand.Uint32())
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: ns},
		StringData: map[string]string{"password": leak.Secret(value)}})).To(Succeed())
	g.Expect(env.TokenStore(ctx, ns, "vault")).To(Succeed())
	return ns, "pushed/" + ns
}

func newPush(ns, remoteKey, update, deletion string) *v1alpha1.PushSecret {
	return &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: ns}, Spec: v1alpha1.PushSecretSpec{
		SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault", Kind: v1alpha1.SecretStoreKindNamespaced}},
		Selector:        v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"}},
		Data:            []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{SecretKey: "password", RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remoteKey, Property: "pw"}}}},
		UpdatePolicy:    update, DeletionPolicy: deletion,
		RefreshInterval: &metav1.Duration{Duration: time.Hour}}}
}

// remote reads the pushed secret's data and custom metadata (nil when gone).
func remote(t *testing.T, key string) (map[string]any, map[string]any) {
	ctx := context.Background()
	d, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/data/"+key)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	m, err := env.VaultClient.Logical().ReadWithContext(ctx, "secret/metadata/"+key)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	if d == nil || m == nil {
		return nil, nil
	}
	data, _ := d.Data["data"].(map[string]any)
	custom, _ := m.Data["custom_metadata"].(map[string]any)
	return data, custom
}

func waitReason(t *testing.T, ns, reason string) {
	NewWithT(t).Eventually(func() string {
		ps := &v1alpha1.PushSecret{}
		_ = env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "push"}, ps)
		if c := meta.FindStatusCondition(ps.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			return c.Reason
		}
		return ""
	}, wait, 100*time.Millisecond).Should(Equal(reason))
}

func TestPushSecret_WritesTheKeyAndMarksTheRemoteAsBaosyncs(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote key
	ns, key := setup(t, "pushed-value")
	NewWithT(t).Expect(env.Client.Create(context.Background(), newPush(ns, key, "Replace", "None"))).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)
	data, custom := remote(t, key)
	NewWithT(t).Expect(data).To(Equal(map[string]any{"pw": "pushed-value"}))
	NewWithT(t).Expect(custom).To(HaveKeyWithValue("managed-by", "baosync"))
}

func TestPushSecret_NeverOverwritesARemoteSecretItDidNotCreate(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote key
	g := NewWithT(t)
	ns, key := setup(t, "would-overwrite")
	g.Expect(env.KVPut(context.Background(), "secret/"+key, map[string]any{"pw": leak.Secret("someone-elses")})).To(Succeed())
	g.Expect(env.Client.Create(context.Background(), newPush(ns, key, "Replace", "Delete"))).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonRemoteNotOwned)
	data, _ := remote(t, key)
	g.Expect(data).To(Equal(map[string]any{"pw": "someone-elses"}))
	// Deleting the PushSecret leaves the remote alone too. The finalizer is
	// what would delete it, so the check waits until the finalizer has run and
	// the object is gone.
	ps := &v1alpha1.PushSecret{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "push"}, ps)).To(Succeed())
	g.Expect(ps.Finalizers).To(ContainElement(finalizer), "deletionPolicy Delete holds the PushSecret until its remote secrets are handled")
	g.Expect(env.Client.Delete(context.Background(), ps)).To(Succeed())
	waitGone(t, ps)
	data, _ = remote(t, key)
	g.Expect(data).To(Equal(map[string]any{"pw": "someone-elses"}))
}

// waitGone waits until the PushSecret no longer exists, that is until its
// finalizer (if any) has run and been removed.
func waitGone(t *testing.T, ps *v1alpha1.PushSecret) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ps), &v1alpha1.PushSecret{})
		return apierrors.IsNotFound(err)
	}, wait, 100*time.Millisecond).Should(BeTrue(), "PushSecret %s/%s still exists", ps.Namespace, ps.Name)
}

func TestPushSecret_UpdatePolicies(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote key
	for _, tc := range []struct {
		policy, want string
	}{{"Replace", "second-push-value"}, {"IfNotExists", "first-push-value"}} {
		t.Run(tc.policy, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ctx := context.Background()
			ns, key := setup(t, "first-push-value")
			ps := newPush(ns, key, tc.policy, "None")
			g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
			waitReason(t, ns, v1alpha1.ReasonPushed)
			src := &corev1.Secret{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "src"}, src)).To(Succeed())
			src.Data["password"] = []byte(leak.Secret("second-push-value"))
			g.Expect(env.Client.Update(ctx, src)).To(Succeed())
			g.Eventually(func() error { // force a push now
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps); err != nil {
					return err
				}
				ps.Annotations = map[string]string{"baosync.io/force-sync": "1"}
				return env.Client.Update(ctx, ps)
			}, wait, 100*time.Millisecond).Should(Succeed())
			g.Eventually(func() any { d, _ := remote(t, key); return d["pw"] }, wait, 100*time.Millisecond).Should(Equal(tc.want))
			g.Consistently(func() any { d, _ := remote(t, key); return d["pw"] }, time.Second, 100*time.Millisecond).Should(Equal(tc.want))
		})
	}
}

func TestPushSecret_DeletionPolicyDeleteRemovesWhatItPushed(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote key
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := setup(t, "to-remove")
	ps := newPush(ns, key, "Replace", "Delete")
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	g.Expect(ps.Finalizers).To(ContainElement(finalizer))
	g.Expect(env.Client.Delete(ctx, ps)).To(Succeed())
	g.Eventually(func() map[string]any { d, _ := remote(t, key); return d }, wait, 100*time.Millisecond).Should(BeNil())
}

// TestPushSecret_KVv1KnowsItsOwnSecretsFromItsStatus pushes to a KV v1 store,
// where no metadata can carry a marker: the PushSecret's status records what it
// created, so it updates and deletes its own secret and refuses a foreign one.
func TestPushSecret_KVv1KnowsItsOwnSecretsFromItsStatus(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote key
	g := NewWithT(t)
	ctx := context.Background()
	_, _ = env.Write(ctx, "sys/mounts/kv1", map[string]any{"type": "kv", "options": map[string]any{"version": "1"}})
	ns, key := setup(t, "v1-first")
	store := &v1alpha1.SecretStore{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "vault"}, store)).To(Succeed())
	kv1 := "kv1"
	store.Spec.Provider.Vault.Path, store.Spec.Provider.Vault.Version = &kv1, v1alpha1.VaultKVStoreV1
	g.Expect(env.Client.Update(ctx, store)).To(Succeed())
	read := func(k string) any {
		s, err := env.VaultClient.Logical().ReadWithContext(ctx, "kv1/"+k)
		g.Expect(err).NotTo(HaveOccurred())
		if s == nil {
			return nil
		}
		return s.Data["pw"]
	}
	ps := newPush(ns, key, "Replace", "Delete")
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)
	g.Expect(read(key)).To(Equal("v1-first"))
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	g.Expect(ps.Status.CreatedRemoteSecrets).To(ConsistOf("SecretStore/vault/" + key))

	// A foreign KV v1 secret is refused.
	_, err := env.Write(ctx, "kv1/foreign-"+ns, map[string]any{"pw": leak.Secret("theirs-kv1-value")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps); err != nil {
			return err
		}
		ps.Spec.Data[0].Match.RemoteRef.RemoteKey = "foreign-" + ns
		return env.Client.Update(ctx, ps)
	}, wait, 100*time.Millisecond).Should(Succeed())
	waitReason(t, ns, v1alpha1.ReasonRemoteNotOwned)
	g.Expect(read("foreign-" + ns)).To(Equal("theirs-kv1-value"))

	// Back to its own secret; deleting the PushSecret deletes it, not the foreign one.
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps); err != nil {
			return err
		}
		ps.Spec.Data[0].Match.RemoteRef.RemoteKey = key
		return env.Client.Update(ctx, ps)
	}, wait, 100*time.Millisecond).Should(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)
	g.Expect(env.Client.Delete(ctx, ps)).To(Succeed())
	g.Eventually(func() any { return read(key) }, wait, 100*time.Millisecond).Should(BeNil())
	g.Expect(read("foreign-" + ns)).To(Equal("theirs-kv1-value"))
}

func TestPushSecret_RefreshIntervalZeroPushesOnceAndAgainOnlyOnChange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		requeue  bool
	}{
		{"0 pushes once: no timer", 0, false},
		{"1h pushes again after an hour", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // own namespace, source Secret and remote key
			g := NewWithT(t)
			ctx := context.Background()
			ns, key := setup(t, "pushed-once")
			ps := newPush(ns, key, "Replace", "None")
			ps.Spec.RefreshInterval = &metav1.Duration{Duration: tc.interval}
			g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
			waitReason(t, ns, v1alpha1.ReasonPushed)
			r := &Reconciler{Client: env.Client, APIReader: env.Client, Provider: vault.New(), Recorder: events.NewFakeRecorder(10)}
			res := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ps)})
			g.Expect(res.Err).NotTo(HaveOccurred())
			g.Expect(res.After > 0).To(Equal(tc.requeue), "requeue after %s", res.After)
			data, _ := remote(t, key)
			g.Expect(data).To(Equal(map[string]any{"pw": "pushed-once"}))
		})
	}
}
