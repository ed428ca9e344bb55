package externalsecret

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/intern"
)

// cacheStrings holds one copy of each string the cached ExternalSecrets and
// Secrets repeat (their namespace, store, API version and kind, condition
// reason and message, labels and annotations). A decoded object holds its
// own copy of every string, and at tens of thousands of objects these copies
// are a large part of the cache. The table is bounded: 4,096 strings of at
// most 256 bytes (kubectl's last-applied manifest, say, is left alone).
var cacheStrings = intern.New(4096, 256)

// cacheMaps holds one copy of each small label or annotation map the cached
// objects repeat (baosync.io/managed on every managed Secret; a Helm
// release's labels on each of its ExternalSecrets). Nothing writes into a
// cached map: readers get deep copies, event handlers only read, and the
// transforms slim an object once (isSlimmed, annotationCacheNonce).
var cacheMaps = intern.NewMaps(1024, cacheStrings)

// isSlimmed reports whether the transform already slimmed es: the informer
// may hand it the same object twice (the reflector's list, then the queue's
// Replace), and a second pass would write into an object readers already use.
// The mark is an empty managedFields that is not nil, which no decoded object
// has: the API server omits an empty list.
func isSlimmed(es *v1alpha1.ExternalSecret) bool {
	return es.ManagedFields != nil && len(es.ManagedFields) == 0
}

// slimExternalSecret is the cache's transform for ExternalSecrets: without
// managedFields and kubectl's last-applied manifest, which the reconciler
// never reads and desired.copyOwnMetadata never copies (half an object again,
// for everyone who applies with kubectl or Argo CD's client-side apply), and
// with the strings and maps many objects repeat shared (cacheStrings,
// cacheMaps). Everything the operator reads is unchanged.
func slimExternalSecret(obj any) (any, error) {
	es, ok := obj.(*v1alpha1.ExternalSecret)
	if !ok { // another view of the kind (unstructured, metadata): as every other kind
		return cache.TransformStripManagedFields()(obj)
	}
	if isSlimmed(es) {
		return es, nil
	}
	es.ManagedFields = []metav1.ManagedFieldsEntry{} // the mark, and no managedFields
	if _, ok := es.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		es.Annotations = maps.Clone(es.Annotations)
		delete(es.Annotations, corev1.LastAppliedConfigAnnotation)
	}
	t := cacheStrings
	shareMeta(&es.TypeMeta, &es.ObjectMeta)
	es.Annotations = cacheMaps.Shared(es.Annotations)
	ref := &es.Spec.SecretStoreRef
	ref.Name, ref.Kind = t.String(ref.Name), v1alpha1.SecretStoreKind(t.String(string(ref.Kind)))
	for i := range es.Spec.Data {
		d := &es.Spec.Data[i]
		d.SecretKey, d.RemoteRef.Key, d.RemoteRef.Property = t.String(d.SecretKey), t.String(d.RemoteRef.Key), t.String(d.RemoteRef.Property)
	}
	for i := range es.Spec.DataFrom {
		if e := es.Spec.DataFrom[i].Extract; e != nil {
			e.Key, e.Property = t.String(e.Key), t.String(e.Property)
		}
	}
	for i := range es.Status.Conditions {
		c := &es.Status.Conditions[i]
		c.Type, c.Reason, c.Message = t.String(c.Type), t.String(c.Reason), t.String(c.Message)
		c.Status = metav1.ConditionStatus(t.String(string(c.Status)))
	}
	es.Status.SyncedResourceVersion = t.String(es.Status.SyncedResourceVersion)
	return es, nil
}

// shareMeta shares the strings of an object's type and metadata that other
// objects repeat, and its labels; its name and UID are its own, and its
// annotations are left to the caller, which knows whether others repeat them.
func shareMeta(tm *metav1.TypeMeta, om *metav1.ObjectMeta) {
	t := cacheStrings
	tm.APIVersion, tm.Kind = t.String(tm.APIVersion), t.String(tm.Kind)
	om.Namespace = t.String(om.Namespace)
	om.Labels = cacheMaps.Shared(om.Labels)
	for i := range om.OwnerReferences {
		r := &om.OwnerReferences[i]
		r.APIVersion, r.Kind = t.String(r.APIVersion), t.String(r.Kind)
	}
	for i := range om.Finalizers {
		om.Finalizers[i] = t.String(om.Finalizers[i])
	}
}
