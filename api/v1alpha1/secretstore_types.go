package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretStoreSpec is shared by SecretStore and ClusterSecretStore.
type SecretStoreSpec struct {
	// Controller is the controller class that reconciles this store. An operator
	// started with --controller-class reconciles only the stores that name it; the
	// default operator reconciles stores that leave this empty.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Controller string `json:"controller,omitempty"`

	// Provider says which server to use and how to log in.
	Provider SecretStoreProvider `json:"provider"`

	// RefreshInterval is how often, in seconds, the store re-checks that it can log
	// in. 0 uses the operator's default (5 minutes); anything else is at least 10.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:XValidation:rule="self == 0 || self >= 10",message="refreshInterval is 0 (the default, 5 minutes) or at least 10 seconds"
	// +optional
	RefreshInterval int `json:"refreshInterval,omitempty"`

	// Conditions restrict which namespaces may use a ClusterSecretStore. A namespace
	// may use it when it matches any one condition; no conditions allow all.
	// Only meaningful on a ClusterSecretStore.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Conditions []ClusterSecretStoreCondition `json:"conditions,omitempty"`

	// Tenancy makes a ClusterSecretStore serve each namespace as itself: its
	// own ServiceAccount logs in, and it reaches only its own path prefix.
	// Only meaningful on a ClusterSecretStore; see docs/multi-tenancy.md.
	// +optional
	Tenancy *StoreTenancy `json:"tenancy,omitempty"`

	// InstantUpdates refreshes, at once, the ExternalSecrets that read a path
	// of this store when the server's audit stream (a socket audit device
	// pointed at the operator's --change-feed-listen) reports a change of
	// it; refreshInterval stays the fallback. See docs/instant-updates.md.
	// +optional
	InstantUpdates *InstantUpdates `json:"instantUpdates,omitempty"`
}

// InstantUpdates says which audit stream is this store's server's. An empty
// section ({}) takes only the refresh endpoint's requests by path.
type InstantUpdates struct {
	// StreamTokenSecretRef holds the token the server's socket audit device
	// writes in front of every line (its prefix option). Only lines with it
	// refresh this store's objects. A SecretStore reads it from its own
	// namespace; a ClusterSecretStore must name the namespace.
	// +optional
	StreamTokenSecretRef *SecretKeySelector `json:"streamTokenSecretRef,omitempty"`
}

// SecretStoreProvider holds the provider configuration. OpenBao and Vault are
// the one provider.
type SecretStoreProvider struct {
	// Vault configures an OpenBao or HashiCorp Vault server.
	Vault *VaultProvider `json:"vault"`
}

// ClusterSecretStoreCondition matches namespaces. Within one condition every set
// field must match.
type ClusterSecretStoreCondition struct {
	// NamespaceSelector matches namespaces by label.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// Namespaces lists namespaces by name.
	// +kubebuilder:validation:MaxItems=256
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// NamespaceRegexes matches namespace names by regular expression (RE2).
	// +kubebuilder:validation:MaxItems=32
	// +optional
	NamespaceRegexes []string `json:"namespaceRegexes,omitempty"`
}

// SecretStoreStatus is the observed state of a store.
type SecretStoreStatus struct {
	// Conditions hold Ready: whether the store can log in.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Capabilities says whether ExternalSecrets may read from the store and
	// PushSecrets may write to it, as ESO shows it in `kubectl get`.
	// +optional
	Capabilities SecretStoreCapabilities `json:"capabilities,omitempty"`
	// Tenancy counts the namespaces a ClusterSecretStore with a tenancy
	// section or referent authentication serves, and names those that
	// failed to log in.
	// +optional
	Tenancy *TenancyStatus `json:"tenancy,omitempty"`
}

// SecretStoreCapabilities is what a store allows: reads, pushes or both.
// +kubebuilder:validation:Enum=ReadOnly;WriteOnly;ReadWrite
type SecretStoreCapabilities string

// The capabilities ESO names; an OpenBao or Vault store reads and pushes.
const (
	SecretStoreReadOnly  SecretStoreCapabilities = "ReadOnly"
	SecretStoreWriteOnly SecretStoreCapabilities = "WriteOnly"
	SecretStoreReadWrite SecretStoreCapabilities = "ReadWrite"
)

// SecretStore is a namespaced store: only ExternalSecrets of its own namespace
// may use it, and it may only read Secrets and ServiceAccounts of that namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories={baosync},shortName=bss
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Capabilities",type=string,JSONPath=`.status.capabilities`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.conditions) || size(self.spec.conditions) == 0",message="spec.conditions applies to ClusterSecretStore only"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.tenancy)",message="spec.tenancy applies to ClusterSecretStore only: a SecretStore already serves one namespace"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.provider.vault.auth.kubernetes) || has(self.spec.provider.vault.auth.kubernetes.serviceAccountRef) || has(self.spec.provider.vault.auth.kubernetes.secretRef)",message="a SecretStore cannot log in with the operator's own identity: set auth.kubernetes.serviceAccountRef (or secretRef)"
type SecretStore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SecretStoreSpec   `json:"spec"`
	Status SecretStoreStatus `json:"status,omitempty"`
}

// SecretStoreList is a list of SecretStores.
//
// +kubebuilder:object:root=true
type SecretStoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SecretStore `json:"items"`
}

// ClusterSecretStore is a cluster-scoped store that ExternalSecrets of any
// namespace allowed by its conditions may use.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories={baosync},shortName=bcss
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Capabilities",type=string,JSONPath=`.status.capabilities`
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.tenancy.namespaces`,priority=1
// +kubebuilder:printcolumn:name="Login Failures",type=integer,JSONPath=`.status.tenancy.loginFailures`,priority=1
// +kubebuilder:validation:XValidation:rule="!has(self.spec.tenancy) || has(self.spec.provider.vault.auth.kubernetes) || (has(self.spec.provider.vault.auth.jwt) && has(self.spec.provider.vault.auth.jwt.kubernetesServiceAccountToken))",message="spec.tenancy logs each namespace in with its own ServiceAccount: use auth.kubernetes, or auth.jwt with kubernetesServiceAccountToken"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.tenancy) || has(self.spec.tenancy.mount) || has(self.spec.provider.vault.path)",message="spec.tenancy needs a KV mount: set tenancy.mount or provider.vault.path"
type ClusterSecretStore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SecretStoreSpec   `json:"spec"`
	Status SecretStoreStatus `json:"status,omitempty"`
}

// ClusterSecretStoreList is a list of ClusterSecretStores.
//
// +kubebuilder:object:root=true
type ClusterSecretStoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterSecretStore `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SecretStore{}, &SecretStoreList{}, &ClusterSecretStore{}, &ClusterSecretStoreList{})
}
