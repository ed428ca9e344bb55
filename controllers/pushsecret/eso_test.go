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

// TestPushSecret_EmptyPropertyAndSecretKeyPushWholeSecretsAsESO pushes the
// ESO forms: a JSON value as the whole remote secret, the whole Secret with
// and without a property, and refuses a value that is not a JSON object.
func TestPushSecret_EmptyPropertyAndSecretKeyPushWholeSecretsAsESO(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote keys
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := setup(t, "not-json")
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src-json", Namespace: ns},
		StringData: map[string]string{"config": `{"user":"app","port":5432}`, "tls.crt": "<a&b>"}})).To(Succeed())
	ps := newPush(ns, key, "Replace", "None")
	ps.Spec.Selector.Secret.Name = "src-json"
	entry := func(secretKey, remoteKey, property string) v1alpha1.PushSecretData {
		return v1alpha1.PushSecretData{Match: v1alpha1.PushSecretMatch{SecretKey: secretKey,
			RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remoteKey, Property: property}}}
	}
	ps.Spec.Data = []v1alpha1.PushSecretData{
		entry("config", key+"/value", ""),
		entry("", key+"/all", ""),
		entry("", key+"/all-in-one", "everything"),
	}
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)

	data, _ := remote(t, key+"/value")
	g.Expect(data).To(HaveLen(2))
	g.Expect(data).To(HaveKeyWithValue("user", "app"))
	g.Expect(data).To(HaveKey("port"))
	data, _ = remote(t, key+"/all")
	g.Expect(data).To(Equal(map[string]any{"config": `{"user":"app","port":5432}`, "tls.crt": "<a&b>"}))
	data, _ = remote(t, key+"/all-in-one")
	g.Expect(data).To(Equal(map[string]any{"everything": `{"config":"{\"user\":\"app\",\"port\":5432}","tls.crt":"<a&b>"}`}))

	// The first Secret's key is no JSON object: with no property, InvalidSpec,
	// and nothing written.
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	ps.Spec.Selector.Secret.Name = "src"
	ps.Spec.Data = []v1alpha1.PushSecretData{entry("password", key+"/bad", "")}
	g.Expect(env.Client.Update(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonInvalidSpec)
	data, _ = remote(t, key+"/bad")
	g.Expect(data).To(BeNil())
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	msg := meta.FindStatusCondition(ps.Status.Conditions, v1alpha1.ConditionReady).Message
	g.Expect(msg).To(ContainSubstring("not a JSON object"))
	g.Expect(msg).NotTo(ContainSubstring("not-json"))
}

// TestPushSecret_TakesOverWhatESOPushedOnlyWithTheAnnotation seeds a remote
// secret with ESO's marker: refused, then taken over once the PushSecret
// carries the annotation, with an event and the Ready message saying so.
func TestPushSecret_TakesOverWhatESOPushedOnlyWithTheAnnotation(t *testing.T) {
	t.Parallel() // own namespace, source Secret and remote key
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := setup(t, "baosync-value")
	_, err := env.VaultClient.Logical().WriteWithContext(ctx, "secret/metadata/"+key,
		map[string]any{"custom_metadata": map[string]any{"managed-by": "external-secrets", "team": "blue"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.KVPut(ctx, "secret/"+key, map[string]any{"pw": "eso-value", "other": "kept"})).To(Succeed())

	ps := newPush(ns, key, "Replace", "None")
	g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonRemoteNotOwned)
	data, custom := remote(t, key)
	g.Expect(data).To(HaveKeyWithValue("pw", "eso-value"))
	g.Expect(custom).To(HaveKeyWithValue("managed-by", "external-secrets"))

	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	ps.Annotations = map[string]string{v1alpha1.AnnotationAdoptFromESO: "true"}
	g.Expect(env.Client.Update(ctx, ps)).To(Succeed())
	waitReason(t, ns, v1alpha1.ReasonPushed)
	data, custom = remote(t, key)
	g.Expect(data).To(Equal(map[string]any{"pw": "baosync-value", "other": "kept"}))
	g.Expect(custom).To(HaveKeyWithValue("managed-by", "baosync"))
	g.Expect(custom).To(HaveKeyWithValue("baosync-owner", ns+"/push"))
	g.Expect(custom).To(HaveKeyWithValue("baosync-owner-uid", string(ps.UID)))
	g.Expect(custom).To(HaveKeyWithValue("team", "blue"))
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
	g.Expect(meta.FindStatusCondition(ps.Status.Conditions, v1alpha1.ConditionReady).Message).To(ContainSubstring("taken over from External Secrets Operator"))
	g.Eventually(func() bool {
		events := &corev1.EventList{}
		_ = env.Client.List(ctx, events, client.InNamespace(ns))
		for _, e := range events.Items {
			if e.Reason == v1alpha1.ReasonAdoptedFromESO && e.InvolvedObject.Name == "push" {
				return true
			}
		}
		return false
	}, wait).Should(BeTrue(), "an AdoptedFromESO event")
}
