package pushsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestDataTo_PushesKeysByPatternPerKeyAndBundledAndRemovesThemOnDelete:
// ESO v2's bulk push against the real Vault. Per-key mode writes each
// matched key (a JSON object) to the remote key rewrite makes of its name;
// remoteKey bundles the matched keys into one remote secret; a data entry
// wins over dataTo for the same key; deletionPolicy Delete removes every
// remote secret it created, per-key ones included.
func TestDataTo_PushesKeysByPatternPerKeyAndBundledAndRemovesThemOnDelete(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote keys
	g := NewWithT(t)
	ctx := context.Background()
	ns, base := setup(t, "unused")
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bulk", Namespace: ns}, StringData: map[string]string{
		"app-config": `{"level":"info"}`, "app-flags": `{"beta":"on"}`, "DB_USER": "app", "DB_PASS": leak.Secret("bulk-db-pass"), "other": "plain"}})).To(Succeed())
	ps := newPush(ns, base+"/explicit", "Replace", "Delete")
	ps.Spec.Selector.Secret.Name = "bulk"
	ps.Spec.Data[0].Match = v1alpha1.PushSecretMatch{SecretKey: "app-flags", RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: base + "/explicit", Property: "flags"}}
	vault := v1alpha1.PushSecretDataToStoreRef{Name: "vault"}
	ps.Spec.DataTo = []v1alpha1.PushSecretDataTo{
		{StoreRef: vault, Match: &v1alpha1.PushSecretDataToMatch{RegExp: "^app-"},
			Rewrite: []v1alpha1.ExternalSecretRewrite{{Regexp: &v1alpha1.RewriteRegexp{Source: "^app-(.*)$", Target: base + "/$1"}}}},
		{StoreRef: v1alpha1.PushSecretDataToStoreRef{LabelSelector: &metav1.LabelSelector{}}, Match: &v1alpha1.PushSecretDataToMatch{RegExp: "^DB_"},
			RemoteKey: base + "/db"},
	}
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)

	config, custom := remote(t, base+"/config")
	g.Expect(config).To(Equal(map[string]any{"level": "info"}))
	g.Expect(custom).To(HaveKeyWithValue("managed-by", "baosync"))
	db, _ := remote(t, base+"/db")
	g.Expect(db).To(Equal(map[string]any{"DB_USER": "app", "DB_PASS": "bulk-db-pass"}), "only the matched keys, bundled")
	explicit, _ := remote(t, base+"/explicit")
	g.Expect(explicit).To(Equal(map[string]any{"flags": `{"beta":"on"}`}))
	flags, _ := remote(t, base+"/flags")
	g.Expect(flags).To(BeNil(), "the data entry for app-flags wins over dataTo's")

	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	g.Expect(env.Client.Delete(ctx, ps)).To(Succeed())
	waitGone(t, ps)
	for _, key := range []string{"config", "db", "explicit"} {
		data, _ := remote(t, base+"/"+key)
		g.Expect(data).To(BeNil(), "deletionPolicy Delete removes %s", key)
	}
}

// TestDataTo_APerKeyValueThatIsNotAJSONObjectIsInvalidSpecNamingTheKey: in
// per-key mode a value becomes a whole remote secret (as in ESO), so a plain
// value is refused with the key's name and the ways out, never its value.
func TestDataTo_APerKeyValueThatIsNotAJSONObjectIsInvalidSpecNamingTheKey(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote keys
	g := NewWithT(t)
	ctx := context.Background()
	ns, base := setup(t, "plain-per-key-value")
	ps := newPush(ns, base, "Replace", "None")
	ps.Spec.Data = nil
	ps.Spec.DataTo = []v1alpha1.PushSecretDataTo{{StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "vault"}}}
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonInvalidSpec)
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	msg := meta.FindStatusCondition(ps.Status.Conditions, v1alpha1.ConditionReady).Message
	g.Expect(msg).To(And(ContainSubstring(`dataTo[0] key "password"`), ContainSubstring("is not a JSON object"), ContainSubstring("remoteKey")))
	data, _ := remote(t, "password")
	g.Expect(data).To(BeNil())
}
