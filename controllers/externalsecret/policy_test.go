package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestCreationPolicy(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name     string
		policy   v1alpha1.CreationPolicy
		existing map[string]string // target Secret before the sync; nil: none
		reason   string
		want     map[string]string // nil: no Secret
		owned    bool
	}{
		{name: "Owner creates the Secret with an owner reference", policy: v1alpha1.CreationPolicyOwner,
			reason: v1alpha1.ReasonSecretSynced, want: map[string]string{"k": "policy-value"}, owned: true},
		{name: "Orphan creates the Secret without an owner reference", policy: v1alpha1.CreationPolicyOrphan,
			reason: v1alpha1.ReasonSecretSynced, want: map[string]string{"k": "policy-value"}},
		{name: "Merge adds its keys to an existing Secret and keeps the others", policy: v1alpha1.CreationPolicyMerge,
			existing: map[string]string{"other": "kept", "k": "old"}, reason: v1alpha1.ReasonSecretSynced,
			want: map[string]string{"other": "kept", "k": "policy-value"}},
		{name: "Merge waits for a Secret that does not exist", policy: v1alpha1.CreationPolicyMerge,
			reason: v1alpha1.ReasonTargetMissing},
		{name: "None reads and writes nothing", policy: v1alpha1.CreationPolicyNone, reason: v1alpha1.ReasonSecretSynced},
		{name: "Owner refuses to take over a Secret it does not own and leaves it untouched", policy: v1alpha1.CreationPolicyOwner,
			existing: map[string]string{"k": "someone-elses"}, reason: v1alpha1.ReasonTargetConflict,
			want: map[string]string{"k": "someone-elses"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"k": leak.Secret("policy-value")})
			if tc.existing != nil {
				createSecret(t, ns, "app", tc.existing)
			}
			createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
				es.Spec.Target.CreationPolicy = tc.policy
			}))
			status := metav1.ConditionTrue
			if tc.reason != v1alpha1.ReasonSecretSynced {
				status = metav1.ConditionFalse
			}
			es := waitReady(t, ns, "app", status, tc.reason)
			s := getSecret(t, ns, "app")
			if tc.want == nil {
				g.Expect(s).To(BeNil())
				return
			}
			g.Expect(secretData(t, ns, "app")).To(Equal(tc.want))
			if tc.owned {
				g.Expect(s.OwnerReferences).To(ConsistOf(And(HaveField("UID", es.UID), HaveField("Kind", "ExternalSecret"))))
			} else {
				g.Expect(s.OwnerReferences).To(BeEmpty())
			}
		})
	}
}

func TestDeletionPolicy_WhenTheRemoteSecretIsDeleted(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name     string
		creation v1alpha1.CreationPolicy
		deletion v1alpha1.DeletionPolicy
		existing map[string]string
		reason   string
		want     map[string]string // nil: Secret deleted
	}{
		{name: "Retain keeps the Secret and reports RemoteNotFound", creation: v1alpha1.CreationPolicyOwner,
			deletion: v1alpha1.DeletionPolicyRetain, reason: v1alpha1.ReasonRemoteNotFound, want: map[string]string{"k": "to-be-deleted"}},
		{name: "Delete deletes the Secret", creation: v1alpha1.CreationPolicyOwner,
			deletion: v1alpha1.DeletionPolicyDelete, reason: v1alpha1.ReasonSecretDeleted},
		{name: "Merge removes only the keys baosync wrote", creation: v1alpha1.CreationPolicyMerge,
			deletion: v1alpha1.DeletionPolicyMerge, existing: map[string]string{"other": "kept"}, reason: v1alpha1.ReasonSecretDeleted,
			want: map[string]string{"other": "kept"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"k": leak.Secret("to-be-deleted")})
			if tc.existing != nil {
				createSecret(t, ns, "app", tc.existing)
			}
			es := newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
				es.Spec.Target.CreationPolicy, es.Spec.Target.DeletionPolicy = tc.creation, tc.deletion
			})
			createES(t, es)
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)

			g.Expect(env.KVDelete(context.Background(), path)).To(Succeed())
			forceSync(t, es, "after-delete")
			waitReady(t, ns, "app", metav1.ConditionFalse, tc.reason)
			if tc.want == nil {
				g.Eventually(func() any { return getSecret(t, ns, "app") }, eventually, poll).Should(BeNil())
				return
			}
			g.Expect(secretData(t, ns, "app")).To(Equal(tc.want))
		})
	}
}

// forceSync sets the force-sync annotation to value.
func forceSync(t *testing.T, es *v1alpha1.ExternalSecret, value string) {
	update(t, es, func(es *v1alpha1.ExternalSecret) {
		if es.Annotations == nil {
			es.Annotations = map[string]string{}
		}
		es.Annotations[v1alpha1.AnnotationForceSync] = value
	})
}
