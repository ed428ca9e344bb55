package externalsecret

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

func TestClaimTarget_TakesOverOnlyWhatESOWroteForThisExternalSecret(t *testing.T) {
	yes := true
	esoRef := func(name string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "external-secrets.io/v1", Kind: "ExternalSecret", Name: name, UID: "eso-uid", Controller: &yes}
	}
	secret := func(labels map[string]string, refs ...metav1.OwnerReference) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Labels: labels, OwnerReferences: refs,
			Annotations: map[string]string{"reconcile.external-secrets.io/data-hash": "h", "team": "blue"}}}
	}
	esoLabels := func() map[string]string {
		return map[string]string{esoLabelManaged: "true", "reconcile.external-secrets.io/created-by": "x", "app": "web"}
	}
	cases := []struct {
		name     string
		annotate bool
		target   *corev1.Secret
		refusal  string // "" : taken over
	}{
		{name: "takes over a Secret ESO's ExternalSecret of the same name controls", annotate: true, target: secret(esoLabels(), esoRef("app"))},
		{name: "takes over a Secret ESO created with creationPolicy Orphan (its managed label)", annotate: true, target: secret(esoLabels())},
		{name: "refuses without the annotation and says how to take over", target: secret(esoLabels(), esoRef("app")), refusal: v1alpha1.AnnotationTakeOver},
		{name: "refuses a Secret without ESO's marks", annotate: true, target: secret(map[string]string{"app": "web"}), refusal: "carries none"},
		{name: "refuses a Secret ESO wrote for another ExternalSecret", annotate: true, target: secret(esoLabels(), esoRef("other")), refusal: "for the ExternalSecret other"},
		{name: "refuses a Secret another controller owns", annotate: true, refusal: "controlled by Deployment web",
			target: secret(esoLabels(), metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d", Controller: &yes})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := newES("ns", "app", "s")
			if tc.annotate {
				es.Annotations = map[string]string{v1alpha1.AnnotationTakeOver: "true"}
			}
			before := tc.target.DeepCopy()
			claimed, err := claimTarget(es, tc.target)
			if tc.refusal != "" {
				oe := outcome.As(err, "")
				if oe.Reason != v1alpha1.ReasonTargetConflict || oe.Class != outcome.Waiting || oe.After != conflictRetry || !strings.Contains(err.Error(), tc.refusal) {
					t.Fatalf("got %v (%+v); want a TargetConflict retried after %s mentioning %q", err, oe, conflictRetry, tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(claimed.OwnerReferences) != 0 || claimed.Labels["app"] != "web" || len(claimed.Labels) != 1 ||
				claimed.Annotations["team"] != "blue" || len(claimed.Annotations) != 1 {
				t.Fatalf("claimed Secret keeps ESO's marks or loses others: %+v", claimed.ObjectMeta)
			}
			if len(tc.target.Labels) != len(before.Labels) || len(tc.target.OwnerReferences) != len(before.OwnerReferences) {
				t.Fatal("claimTarget changed the Secret it was given")
			}
		})
	}
}
