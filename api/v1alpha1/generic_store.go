package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// GenericStore is what SecretStore and ClusterSecretStore have in common, so that
// the provider and the reconcilers handle both through one code path.
//
// +kubebuilder:object:generate=false
type GenericStore interface {
	runtime.Object
	metav1.Object

	// GetKind returns the store's kind; it does not depend on TypeMeta being set.
	GetKind() SecretStoreKind
	// GetSpec returns the store's spec.
	GetSpec() *SecretStoreSpec
	// GetStatus returns the store's status.
	GetStatus() *SecretStoreStatus
}

var (
	_ GenericStore = (*SecretStore)(nil)
	_ GenericStore = (*ClusterSecretStore)(nil)
)

// GetKind returns SecretStore.
func (s *SecretStore) GetKind() SecretStoreKind { return SecretStoreKindNamespaced }

// GetSpec returns the store's spec.
func (s *SecretStore) GetSpec() *SecretStoreSpec { return &s.Spec }

// GetStatus returns the store's status.
func (s *SecretStore) GetStatus() *SecretStoreStatus { return &s.Status }

// GetKind returns ClusterSecretStore.
func (s *ClusterSecretStore) GetKind() SecretStoreKind { return SecretStoreKindCluster }

// GetSpec returns the store's spec.
func (s *ClusterSecretStore) GetSpec() *SecretStoreSpec { return &s.Spec }

// GetStatus returns the store's status.
func (s *ClusterSecretStore) GetStatus() *SecretStoreStatus { return &s.Status }
