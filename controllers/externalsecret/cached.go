package externalsecret

import (
	"crypto/rand"
	"encoding/hex"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// The Secrets cache holds every Secret labelled baosync.io/managed=true, and
// anyone who may create a Secret may set that label. So it holds no data: a
// cached Secret carries its metadata and, in annotationObservedHash, the hash
// of its type and data, which is all the drift check and the "nothing
// changed" decision need; a write needs no old data for Owner and Orphan, and
// reads the live Secret for Merge. A Secret whose labels and annotations are
// past maxCachedMetadata is cached as a stub marked annotationCacheTrimmed and
// read live when an ExternalSecret needs it. A tenant's labelled Secret then
// costs the cache a few hundred bytes, at most maxCachedMetadata, whatever its
// size.
const (
	// annotationObservedHash exists only in the operator's memory: the cache
	// sets it, a live read removes it, and no write carries it.
	annotationObservedHash = "baosync.io/observed-data-hash"
	// annotationCacheTrimmed marks a cached stub whose metadata was too large
	// to keep.
	annotationCacheTrimmed = "baosync.io/cache-trimmed"
	// annotationCacheNonce marks a Secret this process's cache already slimmed
	// (cacheNonce): the informer may hand the transform an object twice (a
	// relist's Replace), and hashing a slimmed Secret's missing data would make
	// every Secret look drifted.
	annotationCacheNonce = "baosync.io/cache-nonce"
	// maxCachedMetadata bounds the labels and annotations kept per cached
	// Secret (the API server allows 256 KiB of annotations).
	maxCachedMetadata = 16 << 10
)

// cacheNonce is this process's mark on the Secrets its cache slimmed; random,
// so that no tenant can set it on a Secret of its own.
var cacheNonce = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on the platforms Go supports
	return hex.EncodeToString(b)
}()

// slimSecret is the cache's transform for Secrets: metadata without
// managedFields, the type and immutability, and the hash of the data instead
// of the data.
func slimSecret(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	if s.Data == nil && s.StringData == nil && s.Annotations[annotationCacheNonce] == cacheNonce {
		return s, nil // slimmed already: its hash is of the data it had
	}
	slim := &corev1.Secret{TypeMeta: s.TypeMeta, Type: s.Type, Immutable: s.Immutable, ObjectMeta: metav1.ObjectMeta{
		Name: s.Name, Namespace: s.Namespace, UID: s.UID, ResourceVersion: s.ResourceVersion, Generation: s.Generation,
		CreationTimestamp: s.CreationTimestamp, DeletionTimestamp: s.DeletionTimestamp,
		Labels: s.Labels, Annotations: maps.Clone(s.Annotations), OwnerReferences: s.OwnerReferences, Finalizers: s.Finalizers,
	}}
	big := metadataSize(s) > maxCachedMetadata
	if big {
		slim.Labels = map[string]string{v1alpha1.LabelManaged: s.Labels[v1alpha1.LabelManaged]}
		slim.Annotations, slim.OwnerReferences, slim.Finalizers = nil, nil, nil
	}
	if slim.Annotations == nil {
		slim.Annotations = map[string]string{}
	}
	dropCacheMarks(slim)
	if big {
		slim.Annotations[annotationCacheTrimmed] = "true"
	}
	slim.Annotations[annotationObservedHash] = contentHash(s.Type, s.Data)
	slim.Annotations[annotationCacheNonce] = cacheNonce
	shareMeta(&slim.TypeMeta, &slim.ObjectMeta)
	cacheStrings.Map(slim.Annotations) // each Secret's hashes are its own: no map to share
	slim.Type = corev1.SecretType(cacheStrings.String(string(slim.Type)))
	return slim, nil
}

// metadataSize is the size of a Secret's labels, annotations, owner
// references and finalizers.
func metadataSize(s *corev1.Secret) int {
	n := 0
	for _, ref := range s.OwnerReferences {
		n += len(ref.APIVersion) + len(ref.Kind) + len(ref.Name) + len(ref.UID) + 16
	}
	for _, f := range s.Finalizers {
		n += len(f)
	}
	for k, v := range s.Labels {
		n += len(k) + len(v)
	}
	for k, v := range s.Annotations {
		n += len(k) + len(v)
	}
	return n
}

// fromCache reports whether s is a cached Secret without its data.
func fromCache(s *corev1.Secret) bool {
	_, ok := s.Annotations[annotationObservedHash]
	return ok
}

// trimmed reports whether s is a cached stub that must be read live.
func trimmed(s *corev1.Secret) bool {
	return s.Annotations[annotationCacheTrimmed] == "true"
}

// observedHash is the hash of s's type and data: as the cache saw them, or
// computed from a live Secret's data.
func observedHash(s *corev1.Secret) string {
	if h, ok := s.Annotations[annotationObservedHash]; ok {
		return h
	}
	return contentHash(s.Type, s.Data)
}

// dropCacheMarks removes the in-memory annotations from s (a live read, or the
// object about to be written), so that no tenant-set copy of them is trusted
// and none is ever written.
func dropCacheMarks(s *corev1.Secret) {
	delete(s.Annotations, annotationObservedHash)
	delete(s.Annotations, annotationCacheTrimmed)
	delete(s.Annotations, annotationCacheNonce)
}
