package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// TestApply_CreationPolicyDecidesWhatIsWritten is the table of apply's
// decisions: which creationPolicy writes what over which existing Secret, who
// owns the result, and which Secrets are refused untouched.
func TestApply_CreationPolicyDecidesWhatIsWritten(t *testing.T) {
	cases := []struct {
		name     string
		policy   v1alpha1.CreationPolicy
		existing *corev1.Secret
		desired  map[string]string
		reason   string            // the refusal's Reason; "" for a write
		wrote    bool              // apply reports a data change
		want     map[string]string // the Secret's data afterwards; nil: no Secret
		owned    bool              // controlled by this ExternalSecret afterwards
		wantES   string            // the external-secret annotation afterwards
	}{{
		name: "None writes nothing", policy: v1alpha1.CreationPolicyNone, desired: map[string]string{"k": "v"},
	}, {
		name: "Merge waits for a Secret to merge into", policy: v1alpha1.CreationPolicyMerge, desired: map[string]string{"k": "v"},
		reason: v1alpha1.ReasonTargetMissing,
	}, {
		name: "Owner creates the Secret and owns it", policy: v1alpha1.CreationPolicyOwner, desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v"}, owned: true, wantES: "app",
	}, {
		name: "an empty policy is Owner", policy: "", desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v"}, owned: true, wantES: "app",
	}, {
		name: "Orphan creates the Secret without owning it", policy: v1alpha1.CreationPolicyOrphan, desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v"}, wantES: "app",
	}, {
		name: "Owner refuses a Secret of someone else and leaves it", policy: v1alpha1.CreationPolicyOwner,
		existing: unitSecret(map[string]string{"k": "theirs"}), desired: map[string]string{"k": "v"},
		reason: v1alpha1.ReasonTargetConflict, want: map[string]string{"k": "theirs"},
	}, {
		name: "Orphan refuses a Secret baosync wrote for another ExternalSecret", policy: v1alpha1.CreationPolicyOrphan,
		existing: unitSecret(map[string]string{"k": "theirs"}, writtenFor("other", "k")), desired: map[string]string{"k": "v"},
		reason: v1alpha1.ReasonTargetConflict, want: map[string]string{"k": "theirs"},
	}, {
		name: "Owner refuses a Secret controlled by another ExternalSecret", policy: v1alpha1.CreationPolicyOwner,
		existing: unitSecret(map[string]string{"k": "theirs"}, controlledBy("other", "uid-other")), desired: map[string]string{"k": "v"},
		reason: v1alpha1.ReasonTargetConflict, want: map[string]string{"k": "theirs"},
	}, {
		name: "Owner takes over the Secret of an earlier ExternalSecret of its name", policy: v1alpha1.CreationPolicyOwner,
		existing: unitSecret(map[string]string{"k": "old"}, controlledBy("app", "uid-before")), desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v"}, owned: true, wantES: "app",
	}, {
		name: "Orphan replaces the data of a Secret it wrote, dropping keys it no longer has", policy: v1alpha1.CreationPolicyOrphan,
		existing: unitSecret(map[string]string{"k": "old", "gone": "x"}, writtenFor("app", "gone,k")), desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v"}, wantES: "app",
	}, {
		name: "Merge lays its keys over someone else's Secret and keeps theirs", policy: v1alpha1.CreationPolicyMerge,
		existing: unitSecret(map[string]string{"k": "old", "theirs": "kept"}), desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v", "theirs": "kept"}, wantES: "app",
	}, {
		name: "Merge leaves the name of the ExternalSecret that merged first", policy: v1alpha1.CreationPolicyMerge,
		existing: unitSecret(map[string]string{"theirs": "kept"}, writtenFor("first", "theirs")), desired: map[string]string{"k": "v"},
		wrote: true, want: map[string]string{"k": "v", "theirs": "kept"}, wantES: "first",
	}, {
		name: "an immutable Secret whose data would change is refused", policy: v1alpha1.CreationPolicyOwner,
		existing: unitSecret(map[string]string{"k": "old"}, controlledBy("app", "uid-now"), immutable), desired: map[string]string{"k": "v"},
		reason: v1alpha1.ReasonTargetConflict, want: map[string]string{"k": "old"}, owned: true,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			es := unitES(tc.policy, v1alpha1.DeletionPolicyRetain)
			var objs []client.Object
			if tc.existing != nil {
				objs = append(objs, tc.existing.DeepCopy())
			}
			r, _ := unitReconciler(t, objs...)
			desired := unitSecret(tc.desired, func(s *corev1.Secret) { s.Labels, s.Annotations = map[string]string{}, map[string]string{} })
			wrote, err := r.apply(ctx, es, tc.existing, desired)
			if tc.reason != "" {
				g.Expect(err).To(HaveOccurred())
				g.Expect(outcome.As(err, "").Reason).To(Equal(tc.reason), "%v", err)
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(wrote).To(Equal(tc.wrote))

			got := &corev1.Secret{}
			err = r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "app"}, got)
			if tc.want == nil {
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a Secret was written: %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(stringData(got)).To(Equal(tc.want))
			g.Expect(owns(es, got) && isControlledBy(got, es.UID)).To(Equal(tc.owned), "owner references: %+v", got.OwnerReferences)
			if tc.reason != "" {
				return
			}
			g.Expect(got.Labels).To(HaveKeyWithValue(v1alpha1.LabelManaged, "true"))
			g.Expect(got.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationExternalSecret, tc.wantES))
			g.Expect(got.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationDataHash, contentHash(got.Type, got.Data)))
			g.Expect(drifted(got)).To(BeFalse())
		})
	}
}

// isControlledBy reports whether the Secret's controller is the object with uid.
func isControlledBy(s *corev1.Secret, uid types.UID) bool {
	for _, ref := range s.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return ref.UID == uid
		}
	}
	return false
}

// TestApply_WritesOnlyWhatChanged checks the write-if-changed rule and what
// apply reports: a second apply of the same values writes nothing, a change
// of metadata alone is written but is no data change for workloads.
func TestApply_WritesOnlyWhatChanged(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	r, _ := unitReconciler(t)
	desired := func(labels map[string]string) *corev1.Secret {
		return unitSecret(map[string]string{"k": "v"}, func(s *corev1.Secret) { s.Labels, s.Annotations = labels, map[string]string{} })
	}
	current := func() *corev1.Secret {
		s := &corev1.Secret{}
		g.Expect(r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "app"}, s)).To(Succeed())
		return s
	}
	g.Expect(r.apply(ctx, es, nil, desired(map[string]string{}))).To(BeTrue(), "creating the Secret is a data change")
	first := current()

	g.Expect(r.apply(ctx, es, first, desired(map[string]string{}))).To(BeFalse())
	g.Expect(current().ResourceVersion).To(Equal(first.ResourceVersion), "an unchanged Secret was written")

	g.Expect(r.apply(ctx, es, first, desired(map[string]string{"team": "a"}))).To(BeFalse(), "a label is not a data change")
	second := current()
	g.Expect(second.ResourceVersion).NotTo(Equal(first.ResourceVersion))
	g.Expect(second.Labels).To(HaveKeyWithValue("team", "a"))
}

// TestCheckMutable_RefusesWhatKubernetesWouldRefuse: a Secret's type cannot
// change and an immutable Secret's data cannot change; an Opaque template
// keeps whatever type the Secret has.
func TestCheckMutable_RefusesWhatKubernetesWouldRefuse(t *testing.T) {
	tls := corev1.SecretTypeTLS
	cases := []struct {
		name        string
		existing    *corev1.Secret
		desiredType corev1.SecretType
		nextData    map[string]string
		conflict    bool
		wantType    corev1.SecretType
	}{
		{name: "a new type is refused", existing: unitSecret(nil), desiredType: tls, conflict: true},
		{name: "the same type passes", existing: unitSecret(nil, withType(tls)), desiredType: tls, wantType: tls},
		{name: "an Opaque template keeps the Secret's type", existing: unitSecret(nil, withType(tls)), desiredType: corev1.SecretTypeOpaque, wantType: tls},
		{name: "an immutable Secret with new data is refused", existing: unitSecret(map[string]string{"k": "a"}, immutable),
			desiredType: corev1.SecretTypeOpaque, nextData: map[string]string{"k": "b"}, conflict: true},
		{name: "an immutable Secret with the same data passes", existing: unitSecret(map[string]string{"k": "a"}, immutable),
			desiredType: corev1.SecretTypeOpaque, nextData: map[string]string{"k": "a"}, wantType: corev1.SecretTypeOpaque},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			next := unitSecret(tc.nextData)
			if tc.nextData == nil {
				next.Data = tc.existing.Data
			}
			err := checkMutable(tc.existing, next, unitSecret(nil, withType(tc.desiredType)))
			if tc.conflict {
				g.Expect(outcome.As(err, "").Reason).To(Equal(v1alpha1.ReasonTargetConflict))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(next.Type).To(Equal(tc.wantType))
		})
	}
}
