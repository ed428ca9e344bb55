package v1alpha1

// KeyPrefix starts every label and annotation baosync reads or writes: its
// own bookkeeping and controls, never copied from an ExternalSecret onto its
// Secret nor pruned from it as user metadata.
const KeyPrefix = "baosync.io/"

// AnnotationKeepOnDelete on an ExternalSecret or PushSecret, set to "true",
// makes its deletion keep what it made outside Kubernetes: the leases of the
// dynamic secrets in its Secret are not revoked, and a PushSecret's
// deletionPolicy Delete removes nothing. The ESO-compatible mode sets it on a
// mirror it hands back to External Secrets Operator. A deletion with
// propagation Orphan (`kubectl delete --cascade=orphan`) does the same when
// baosync sees it before the garbage collector has finished.
const AnnotationKeepOnDelete = "baosync.io/keep-on-delete"

// KeepsOnDelete reports whether the deletion of o keeps what it made outside
// Kubernetes (AnnotationKeepOnDelete, or propagation Orphan).
func KeepsOnDelete(annotations map[string]string, finalizers []string) bool {
	if annotations[AnnotationKeepOnDelete] == "true" {
		return true
	}
	for _, f := range finalizers {
		if f == "orphan" { // metav1.FinalizerOrphanDependents
			return true
		}
	}
	return false
}

// The labels and annotations below are baosync's user-facing vocabulary, in
// one place: what it writes on Secrets, what users set on its objects, and
// how the ESO-compatible mode marks what it serves.

// LabelManaged marks Secrets baosync manages; the operator caches only these.
const LabelManaged = "baosync.io/managed"

// AnnotationExternalSecret names the ExternalSecret that writes the Secret.
const AnnotationExternalSecret = "baosync.io/external-secret"

// AnnotationDataHash is the hash of the Secret's type and data as baosync last
// wrote them; a Secret whose content no longer matches it has drifted.
const AnnotationDataHash = "baosync.io/data-hash"

// AnnotationManagedKeys lists the data keys baosync wrote (names only).
const AnnotationManagedKeys = "baosync.io/managed-keys"

// AnnotationForceSync triggers an immediate sync when its value changes.
const AnnotationForceSync = "baosync.io/force-sync"

// AnnotationManagedLabels and AnnotationManagedAnnotations record which labels
// and annotations of the Secret baosync set from the ExternalSecret (its own,
// or template.metadata), so that one removed there is removed from the Secret
// too, as ESO does, while keys set by anyone else are never touched.
const (
	AnnotationManagedLabels      = "baosync.io/managed-labels"
	AnnotationManagedAnnotations = "baosync.io/managed-annotations"
)

// AnnotationTakeOver on an ExternalSecret, set to "true", lets it take over a
// target Secret that External Secrets Operator created: in the
// one update that writes baosync's values, ESO's owner reference, labels and
// annotations give way to baosync's, so the Secret never disappears.
const AnnotationTakeOver = "baosync.io/take-over"

// AnnotationRestartedAt is set on the pod template of rollout-restart targets,
// like `kubectl rollout restart` sets kubectl.kubernetes.io/restartedAt.
const AnnotationRestartedAt = "baosync.io/restartedAt"

// AnnotationAdoptFromESO on a PushSecret, set to "true", lets it take over
// remote secrets that External Secrets Operator pushed (custom metadata
// managed-by=external-secrets) through a namespaced SecretStore: their marker
// becomes baosync's, with this PushSecret as owner. Without it they are
// RemoteNotOwned, as every secret baosync did not create.
const AnnotationAdoptFromESO = "baosync.io/adopt-from-eso"

// AnnotationServed marks an ESO object this operator serves; its value is
// the ESO controller class served (--eso-controller-class, empty for ESO's
// default class), so that two operators of different classes never take
// each other's objects. The object's deletion then is this operator's to
// finish (ESO's finalizers included) whatever is left of its stores: in a
// namespace being deleted, the store and the mirror may go first. The mark is
// set before the mirror is made, removed when the object is handed back, and
// never copied to the mirror.
const AnnotationServed = "baosync.io/eso-served"

// AnnotationMirror on a mirror holds a hash of what its ESO object converts
// to, as last written: the mirror is written again only when that changes
// (an edit of the mirror itself is undone at the ESO object's next change),
// and a mirror left behind by `kubectl delete --cascade=orphan` is known as
// one when an ESO object of its name comes back.
const AnnotationMirror = "baosync.io/eso-mirror"
