// Package v1alpha1 holds the baosync.io/v1alpha1 API: the stores that say where
// OpenBao or Vault is and how to log in (SecretStore, ClusterSecretStore) and the
// objects that say what to sync (ExternalSecret).
//
// Field names follow External Secrets Operator's external-secrets.io/v1 Vault
// provider so that its manifests convert by changing apiVersion. The package holds
// data and declarative validation only; it imports k8s.io/apimachinery and
// k8s.io/api and nothing that needs a client.
//
// +kubebuilder:object:generate=true
// +groupName=baosync.io
package v1alpha1
