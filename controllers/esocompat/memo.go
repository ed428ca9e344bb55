package esocompat

import (
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// mirrorMemo remembers, per ESO object, the hash its conversion had at the
// generation and metadata it was converted from: a reconcile caused by the
// mirror's status (each sync that changed something) then neither converts
// nor writes. One small entry per ESO object, dropped with the object.
type mirrorMemo struct {
	mu sync.Mutex
	m  map[types.NamespacedName]memoEntry
}

type memoEntry struct {
	uid        types.UID
	generation int64
	meta, hash string
}

// current reports whether hash (the mirror's v1alpha1.AnnotationMirror) is what the
// ESO object, as it is, converts to.
func (m *mirrorMemo) current(eso *unstructured.Unstructured, hash string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[client.ObjectKeyFromObject(eso)]
	return ok && hash != "" && e.hash == hash && e.uid == eso.GetUID() && e.generation == eso.GetGeneration() && e.meta == metaHash(eso)
}

// remember records the hash the ESO object, as it is, converts to.
func (m *mirrorMemo) remember(eso *unstructured.Unstructured, hash string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[types.NamespacedName]memoEntry{}
	}
	m.m[client.ObjectKeyFromObject(eso)] = memoEntry{uid: eso.GetUID(), generation: eso.GetGeneration(), meta: metaHash(eso), hash: hash}
}

// uidOf is the UID of the object key named when it was last mirrored; "" when
// this process has not mirrored it.
func (m *mirrorMemo) uidOf(key types.NamespacedName) types.UID {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[key].uid
}

// forget drops the entry of an object that is gone or not served.
func (m *mirrorMemo) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}

// metaHash hashes the labels and annotations, which reach the mirror and
// whose change does not change the generation.
func metaHash(eso *unstructured.Unstructured) string {
	return hashOf(map[string]any{"labels": eso.GetLabels(), "annotations": ownAnnotations(eso)})
}

// ownAnnotations are the ESO object's annotations without this operator's
// mark, which the mirror does not carry.
func ownAnnotations(eso *unstructured.Unstructured) map[string]string {
	a := eso.GetAnnotations()
	if _, ok := a[v1alpha1.AnnotationServed]; !ok {
		return a
	}
	a = maps.Clone(a)
	delete(a, v1alpha1.AnnotationServed)
	return a
}
