package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VaultDynamicSecretResultType selects the part of the server's answer that
// becomes the generated values.
// +kubebuilder:validation:Enum=Data;Auth;Raw
type VaultDynamicSecretResultType string

const (
	// VaultDynamicSecretResultData takes the answer's data (the default).
	VaultDynamicSecretResultData VaultDynamicSecretResultType = "Data"
	// VaultDynamicSecretResultAuth takes the answer's auth block (for example
	// auth/token/create, whose data is empty).
	VaultDynamicSecretResultAuth VaultDynamicSecretResultType = "Auth"
	// VaultDynamicSecretResultRaw takes the whole answer.
	VaultDynamicSecretResultRaw VaultDynamicSecretResultType = "Raw"
)

// VaultDynamicSecretSpec asks OpenBao or Vault for a dynamic secret (database
// credentials, a PKI certificate, a token, …). The ESO fields come first;
// renewPercent, rotatePercent, revokeOnDelete and rotationGracePeriod are
// baosync's lease lifecycle (see docs/generators.md).
type VaultDynamicSecretSpec struct {
	// Controller is the controller class, as a store's spec.controller.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Controller string `json:"controller,omitempty"`

	// Path to request, for example "database/creds/app" or "pki/issue/web".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^[^/\s][^\s]*$`
	Path string `json:"path"`

	// Method of the request: GET (default; a read) or POST/PUT (a write with
	// parameters, as pki/issue needs).
	// +kubebuilder:validation:Enum=GET;POST;PUT;LIST;DELETE;get;post;put;list;delete
	// +optional
	Method string `json:"method,omitempty"`

	// Parameters are sent as the JSON body of a write.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Parameters *apiextensionsv1.JSON `json:"parameters,omitempty"`

	// GetParameters are query-string parameters of a GET (ESO v2's field):
	// each key may carry several values. A write ignores them, as in ESO.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	GetParameters map[string][]string `json:"getParameters,omitempty"`

	// ResultType selects the part of the answer: Data (default), Auth or Raw.
	// +optional
	ResultType VaultDynamicSecretResultType `json:"resultType,omitempty"`

	// Provider says where the server is and how to log in, exactly as a store's
	// spec.provider.vault. A namespaced VaultDynamicSecret follows a
	// SecretStore's rules: no login with the operator's own identity, and every
	// reference in its own namespace.
	Provider *VaultProvider `json:"provider"`

	// RetrySettings bound the retries of a failed request.
	// +optional
	RetrySettings *RetrySettings `json:"retrySettings,omitempty"`

	// AllowEmptyResponse accepts an answer without values instead of failing.
	// +optional
	AllowEmptyResponse bool `json:"allowEmptyResponse,omitempty"`

	// RenewPercent is the share of the lease's TTL, in percent, after which
	// the lease is renewed (with jitter), while it is renewable. Default 67,
	// two thirds.
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=90
	// +optional
	RenewPercent int `json:"renewPercent,omitempty"`

	// RotatePercent is the share of the credential's whole lifetime (the
	// lease's max TTL, or a certificate's validity read from the certificate),
	// in percent, after which a new credential is issued. Default 67.
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=90
	// +optional
	RotatePercent int `json:"rotatePercent,omitempty"`

	// RevokeOnDelete revokes the lease when the ExternalSecret is deleted or
	// stops using it. Default true.
	// +optional
	RevokeOnDelete *bool `json:"revokeOnDelete,omitempty"`

	// RotationGracePeriod is how long the previous credential stays valid after
	// a new one was issued, so that workloads restart onto the new one before
	// the old lease is revoked. Default 5m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`
	// +optional
	RotationGracePeriod *metav1.Duration `json:"rotationGracePeriod,omitempty"`
}

// RetrySettings bound the retries of a request, as ESO's.
type RetrySettings struct {
	// MaxRetries is how often a failed request is retried.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +optional
	MaxRetries *int32 `json:"maxRetries,omitempty"`
	// RetryInterval is the wait between retries, for example "5s".
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	RetryInterval *string `json:"retryInterval,omitempty"`
}

// VaultDynamicSecret issues a dynamic secret from OpenBao or Vault for each
// ExternalSecret that references it, and keeps its lease: one lease per
// ExternalSecret, renewed and re-issued before it expires, revoked when no
// longer used.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories={baosync,baosync-generators}
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.spec.path`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.provider.auth.kubernetes) || has(self.spec.provider.auth.kubernetes.serviceAccountRef) || has(self.spec.provider.auth.kubernetes.secretRef)",message="a VaultDynamicSecret cannot log in with the operator's own identity: set auth.kubernetes.serviceAccountRef (or secretRef)"
type VaultDynamicSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec VaultDynamicSecretSpec `json:"spec"`
}

// VaultDynamicSecretList is a list of VaultDynamicSecrets.
//
// +kubebuilder:object:root=true
type VaultDynamicSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VaultDynamicSecret `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VaultDynamicSecret{}, &VaultDynamicSecretList{})
}
