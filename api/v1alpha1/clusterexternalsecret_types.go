package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterExternalSecretSpec says which namespaces get an ExternalSecret, and which.
// +kubebuilder:validation:XValidation:rule="(has(self.namespaceSelectors) && size(self.namespaceSelectors) > 0) || (has(self.namespaces) && size(self.namespaces) > 0)",message="set namespaceSelectors or namespaces"
type ClusterExternalSecretSpec struct {
	// ExternalSecretSpec is the spec of every ExternalSecret created.
	ExternalSecretSpec ExternalSecretSpec `json:"externalSecretSpec"`

	// ExternalSecretName names the ExternalSecrets; defaults to this object's name.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	ExternalSecretName string `json:"externalSecretName,omitempty"`

	// ExternalSecretMetadata adds labels and annotations to the ExternalSecrets.
	// +optional
	ExternalSecretMetadata ExternalSecretTemplateMetadata `json:"externalSecretMetadata,omitempty"`

	// NamespaceSelectors select namespaces by label; a namespace matching any
	// selector (or listed in namespaces) gets an ExternalSecret.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	NamespaceSelectors []*metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// Namespaces lists namespaces by name.
	// +kubebuilder:validation:MaxItems=256
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// RefreshTime is how often the namespaces are checked again (namespace
	// changes are also watched). Defaults to 1m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshTime,omitempty"`
}

// ClusterExternalSecretNamespaceFailure says why a namespace has no ExternalSecret.
type ClusterExternalSecretNamespaceFailure struct {
	// Namespace that failed.
	Namespace string `json:"namespace"`
	// Reason it failed.
	// +optional
	Reason string `json:"reason,omitempty"`
}

// ClusterExternalSecretStatus is the observed state.
type ClusterExternalSecretStatus struct {
	// ExternalSecretName is the name of the ExternalSecrets created.
	// +optional
	ExternalSecretName string `json:"externalSecretName,omitempty"`
	// ProvisionedNamespaces have an up-to-date ExternalSecret.
	// +optional
	ProvisionedNamespaces []string `json:"provisionedNamespaces,omitempty"`
	// FailedNamespaces could not get one.
	// +optional
	FailedNamespaces []ClusterExternalSecretNamespaceFailure `json:"failedNamespaces,omitempty"`
	// Conditions hold Ready: every selected namespace has its ExternalSecret.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterExternalSecret creates the same ExternalSecret in every selected
// namespace, and removes it from namespaces that stop being selected.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories={baosync},shortName=bces
// +kubebuilder:printcolumn:name="Store",type=string,JSONPath=`.spec.externalSecretSpec.secretStoreRef.name`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterExternalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterExternalSecretSpec   `json:"spec"`
	Status ClusterExternalSecretStatus `json:"status,omitempty"`
}

// ClusterExternalSecretList is a list of ClusterExternalSecrets.
//
// +kubebuilder:object:root=true
type ClusterExternalSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterExternalSecret `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterExternalSecret{}, &ClusterExternalSecretList{})
}
