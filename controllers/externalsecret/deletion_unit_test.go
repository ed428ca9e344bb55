package externalsecret

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/providers"
)

// TestRemoteGone_DeletionPolicyDecidesWhatHappensToTheSecret is the table of
// remoteGone: what each deletionPolicy does to which target Secret once every
// remote secret answered "not found".
func TestRemoteGone_DeletionPolicyDecidesWhatHappensToTheSecret(t *testing.T) {
	owned := func() *corev1.Secret {
		return unitSecret(map[string]string{"k": "v"}, writtenFor("app", "k"), controlledBy("app", "uid-now"))
	}
	merged := func() *corev1.Secret {
		return unitSecret(map[string]string{"k": "v", "theirs": "kept"}, writtenFor("app", "k"))
	}
	cases := []struct {
		name     string
		creation v1alpha1.CreationPolicy
		policy   v1alpha1.DeletionPolicy
		target   *corev1.Secret
		reason   string            // the Ready Reason afterwards
		want     map[string]string // the Secret's data afterwards; nil: no Secret
	}{
		{name: "Retain keeps the Secret and reports the missing remote", policy: v1alpha1.DeletionPolicyRetain,
			target: owned(), reason: v1alpha1.ReasonRemoteNotFound, want: map[string]string{"k": "v"}},
		{name: "no policy is Retain", policy: "", target: owned(), reason: v1alpha1.ReasonRemoteNotFound, want: map[string]string{"k": "v"}},
		{name: "Delete deletes a Secret it owns", policy: v1alpha1.DeletionPolicyDelete, target: owned(), reason: v1alpha1.ReasonSecretDeleted},
		{name: "Delete never deletes a Secret of someone else", policy: v1alpha1.DeletionPolicyDelete,
			target: unitSecret(map[string]string{"k": "theirs"}), reason: v1alpha1.ReasonRemoteNotFound, want: map[string]string{"k": "theirs"}},
		{name: "Delete with the Secret already gone reports it deleted", policy: v1alpha1.DeletionPolicyDelete, reason: v1alpha1.ReasonSecretDeleted},
		{name: "Merge removes only the keys baosync wrote", creation: v1alpha1.CreationPolicyMerge, policy: v1alpha1.DeletionPolicyMerge,
			target: merged(), reason: v1alpha1.ReasonSecretDeleted, want: map[string]string{"theirs": "kept"}},
		{name: "Merge without a Secret reports the missing remote", creation: v1alpha1.CreationPolicyMerge, policy: v1alpha1.DeletionPolicyMerge,
			reason: v1alpha1.ReasonRemoteNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			creation := tc.creation
			if creation == "" {
				creation = v1alpha1.CreationPolicyOwner
			}
			es := unitES(creation, tc.policy)
			var objs []client.Object
			if tc.target != nil {
				objs = append(objs, tc.target)
			}
			r, _ := unitReconciler(t, objs...)
			var target *corev1.Secret
			if tc.target != nil {
				target = &corev1.Secret{}
				g.Expect(r.Get(ctx, client.ObjectKeyFromObject(tc.target), target)).To(Succeed())
			}
			cause := fmt.Errorf("%w: %w", desired.ErrRemoteGone, outcome.FromProvider(fmt.Errorf("secret/path: %w", providers.ErrNotFound)))

			_ = r.remoteGone(ctx, es, target, cause)

			c := meta.FindStatusCondition(es.Status.Conditions, v1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(tc.reason), c.Message)
			got := &corev1.Secret{}
			err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "app"}, got)
			if tc.want == nil {
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Secret is still there: %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(stringData(got)).To(Equal(tc.want))
			if tc.reason == v1alpha1.ReasonSecretDeleted {
				g.Expect(es.Status.RefreshTime.Time).To(BeTemporally("==", unitNow))
				g.Expect(drifted(got)).To(BeFalse(), "the hash follows the remaining keys")
			}
		})
	}
}

func TestWithoutManagedKeys_HandlesAnySecretATenantCanWrite(t *testing.T) {
	cases := []struct {
		name     string
		secret   *corev1.Secret
		wantData map[string][]byte
		wantKeys int
	}{
		{name: "no data and no annotations", secret: &corev1.Secret{}, wantKeys: 0},
		{name: "annotations but no data", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{v1alpha1.AnnotationManagedKeys: "a,b"}}}, wantKeys: 2},
		{name: "keys of others stay", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{v1alpha1.AnnotationManagedKeys: "a"}},
			Data: map[string][]byte{"a": []byte("1"), "mine": []byte("2")}},
			wantData: map[string][]byte{"mine": []byte("2")}, wantKeys: 1},
		{name: "an empty managed list removes nothing", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{v1alpha1.AnnotationManagedKeys: ""}},
			Data: map[string][]byte{"x": []byte("1")}}, wantData: map[string][]byte{"x": []byte("1")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, keys := withoutManagedKeys(tc.secret)
			if len(keys) != tc.wantKeys {
				t.Fatalf("managed keys = %v, want %d", keys, tc.wantKeys)
			}
			if len(next.Data) != len(tc.wantData) {
				t.Fatalf("data = %v, want %v", next.Data, tc.wantData)
			}
			for k := range tc.wantData {
				if string(next.Data[k]) != string(tc.wantData[k]) {
					t.Fatalf("data[%q] changed", k)
				}
			}
			if next.Annotations[v1alpha1.AnnotationDataHash] != contentHash(next.Type, next.Data) {
				t.Fatal("the hash annotation does not match the remaining data")
			}
		})
	}
}
