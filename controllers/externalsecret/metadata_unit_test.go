package externalsecret

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestPruneMetadata_RemovesOnlyWhatBaosyncSetAndNoLongerWants(t *testing.T) {
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Labels:      map[string]string{"gone": "1", "kept": "1", "theirs": "1"},
		Annotations: map[string]string{v1alpha1.AnnotationManagedLabels: "gone,kept", v1alpha1.AnnotationManagedAnnotations: "old-note", "old-note": "x", "their-note": "y"},
	}}
	next := existing.DeepCopy()
	desired := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"kept": "2", "new": "1"}, Annotations: map[string]string{}}}
	pruneMetadata(existing, next, desired)
	maps.Copy(next.Labels, desired.Labels)
	recordMetadata(next, desired)
	wantLabels := map[string]string{"kept": "2", "new": "1", "theirs": "1"}
	wantAnn := map[string]string{v1alpha1.AnnotationManagedLabels: "kept,new", "their-note": "y"}
	if !maps.Equal(next.Labels, wantLabels) || !maps.Equal(next.Annotations, wantAnn) {
		t.Fatalf("labels %v, annotations %v; want %v, %v", next.Labels, next.Annotations, wantLabels, wantAnn)
	}
}
