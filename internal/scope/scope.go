// Package scope decides once what this operator serves: stores of its
// controller class and, in a namespace-scoped install, one namespace and no
// cluster-scoped kind. main.go builds the value from the flags and hands the
// same one to every reconciler, so that no reconciler decides it on its own.
package scope

import "github.com/baosync/baosync/api/v1alpha1"

// Served is what this operator serves: stores whose spec.controller names
// Class (empty: stores that name none) and, when Namespace is set, only that
// namespace and no ClusterSecretStore.
type Served struct {
	Class     string
	Namespace string
}

// Serves reports whether the store is this operator's: its class, and in a
// namespace-scoped operator a SecretStore of its namespace.
func (s Served) Serves(store v1alpha1.GenericStore) bool {
	if store.GetSpec().Controller != s.Class {
		return false
	}
	if s.Namespace == "" {
		return true
	}
	return store.GetKind() == v1alpha1.SecretStoreKindNamespaced && store.GetNamespace() == s.Namespace
}

// ServesNamespace reports whether objects in namespace are this operator's.
func (s Served) ServesNamespace(namespace string) bool {
	return s.Namespace == "" || s.Namespace == namespace
}

// ClusterWide reports whether the operator serves the whole cluster, and so
// the cluster-scoped kinds (ClusterSecretStore, ClusterExternalSecret).
func (s Served) ClusterWide() bool { return s.Namespace == "" }
