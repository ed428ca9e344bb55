package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterPushSecretSpec says which namespaces get a PushSecret, and which.
// +kubebuilder:validation:XValidation:rule="(has(self.namespaceSelectors) && size(self.namespaceSelectors) > 0) || (has(self.namespaces) && size(self.namespaces) > 0)",message="set namespaceSelectors or namespaces"
type ClusterPushSecretSpec struct {
	// PushSecretSpec is the spec of every PushSecret created. Its selector and
	// stores resolve in each namespace, as those of a PushSecret written there.
	PushSecretSpec PushSecretSpec `json:"pushSecretSpec"`

	// PushSecretName names the PushSecrets; defaults to this object's name.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	PushSecretName string `json:"pushSecretName,omitempty"`

	// PushSecretMetadata adds labels and annotations to the PushSecrets.
	// +optional
	PushSecretMetadata ExternalSecretTemplateMetadata `json:"pushSecretMetadata,omitempty"`

	// NamespaceSelectors select namespaces by label; a namespace matching any
	// selector (or listed in namespaces) gets a PushSecret.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	NamespaceSelectors []*metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// Namespaces lists namespaces by name (baosync's, as on a
	// ClusterExternalSecret; ESO's ClusterPushSecret has selectors only).
	// +kubebuilder:validation:MaxItems=256
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// RefreshTime is how often the namespaces are checked again (namespace
	// changes are also watched); 1m when empty.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshTime,omitempty"`
}

// ClusterPushSecretStatus is the observed state.
type ClusterPushSecretStatus struct {
	// PushSecretName is the name of the PushSecrets created.
	// +optional
	PushSecretName string `json:"pushSecretName,omitempty"`
	// ProvisionedNamespaces have an up-to-date PushSecret.
	// +optional
	ProvisionedNamespaces []string `json:"provisionedNamespaces,omitempty"`
	// FailedNamespaces could not get one.
	// +optional
	FailedNamespaces []ClusterExternalSecretNamespaceFailure `json:"failedNamespaces,omitempty"`
	// Conditions hold Ready: every selected namespace has its PushSecret (each
	// PushSecret's own Ready says whether it pushed).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterPushSecret creates the same PushSecret in every selected namespace,
// and removes it from namespaces that stop being selected (ESO v2's kind).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories={baosync},shortName=bcps
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterPushSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterPushSecretSpec   `json:"spec"`
	Status ClusterPushSecretStatus `json:"status,omitempty"`
}

// ClusterPushSecretList is a list of ClusterPushSecrets.
//
// +kubebuilder:object:root=true
type ClusterPushSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterPushSecret `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterPushSecret{}, &ClusterPushSecretList{})
}
