package externalsecret

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// pruneMetadata removes from next the labels and annotations that existing
// records as baosync's and desired no longer sets.
func pruneMetadata(existing, next, desired *corev1.Secret) {
	prune(next.Labels, existing.Annotations[v1alpha1.AnnotationManagedLabels], desired.Labels)
	prune(next.Annotations, existing.Annotations[v1alpha1.AnnotationManagedAnnotations], desired.Annotations)
}

// prune deletes from m the keys of the comma-separated list recorded that
// want lacks; baosync's own keys are left to the caller.
func prune(m map[string]string, recorded string, want map[string]string) {
	for k := range strings.SplitSeq(recorded, ",") {
		if _, ok := want[k]; !ok && k != "" && !strings.HasPrefix(k, v1alpha1.KeyPrefix) {
			delete(m, k)
		}
	}
}

// recordMetadata records on next which labels and annotations desired sets.
func recordMetadata(next, desired *corev1.Secret) {
	record(next.Annotations, v1alpha1.AnnotationManagedLabels, desired.Labels)
	record(next.Annotations, v1alpha1.AnnotationManagedAnnotations, desired.Annotations)
}

// record sets annotation key to the sorted keys of m (without baosync's own),
// or removes it when there are none.
func record(annotations map[string]string, key string, m map[string]string) {
	keys := slices.DeleteFunc(slices.Sorted(maps.Keys(m)), func(k string) bool { return strings.HasPrefix(k, v1alpha1.KeyPrefix) })
	if len(keys) == 0 {
		delete(annotations, key)
		return
	}
	annotations[key] = strings.Join(keys, ",")
}
