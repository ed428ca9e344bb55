package v1alpha1

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
