package externalsecret

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/baosync/baosync/api/v1alpha1"
)

// contentHash hashes a Secret's type and data in a stable order.
func contentHash(t corev1.SecretType, data map[string][]byte) string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s\n", t)
	for _, k := range slices.Sorted(maps.Keys(data)) {
		_, _ = fmt.Fprintf(h, "%d:%s=%d:", len(k), k, len(data[k]))
		_, _ = h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// drifted reports whether someone changed the Secret's content since baosync
// wrote it.
func drifted(s *corev1.Secret) bool {
	return s.Annotations[v1alpha1.AnnotationDataHash] != observedHash(s)
}

// sameSecret reports whether writing next over existing would change
// nothing; existing may be a cached Secret, whose data is known by its hash.
func sameSecret(existing, next *corev1.Secret) bool {
	a, b := existing, next
	annotations := maps.Clone(a.Annotations)
	delete(annotations, annotationObservedHash)
	delete(annotations, annotationCacheNonce)
	return a.Type == b.Type &&
		observedHash(a) == contentHash(b.Type, b.Data) &&
		equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(annotations, b.Annotations) &&
		equality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences) &&
		equality.Semantic.DeepEqual(a.Immutable, b.Immutable)
}
