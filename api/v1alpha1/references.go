package v1alpha1

// SecretKeySelector points at one key of a Kubernetes Secret.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`

	// Key inside the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`

	// Namespace of the Secret. A SecretStore may only name its own namespace (or
	// leave this empty); a ClusterSecretStore must name it.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace *string `json:"namespace,omitempty"`
}

// ServiceAccountSelector points at a ServiceAccount whose short-lived token is
// requested through the TokenRequest API.
type ServiceAccountSelector struct {
	// Name of the ServiceAccount.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`

	// Namespace of the ServiceAccount. A SecretStore may only name its own
	// namespace. A ClusterSecretStore that leaves it empty logs each namespace
	// in with the ServiceAccount of this name in that namespace (ESO's
	// referent authentication; see docs/multi-tenancy.md).
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace *string `json:"namespace,omitempty"`

	// Audiences of the requested token. Defaults to ["vault"]. baosync checks
	// with a TokenReview that the API server does not accept the token before
	// sending it to the store's server, and refuses audiences it accepts.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[!-~]+$`
	// +optional
	Audiences []string `json:"audiences,omitempty"`
}

// CAProviderType says which kind of object holds a CA bundle.
// +kubebuilder:validation:Enum=Secret;ConfigMap
type CAProviderType string

const (
	// CAProviderTypeSecret reads the CA bundle from a Secret.
	CAProviderTypeSecret CAProviderType = "Secret"
	// CAProviderTypeConfigMap reads the CA bundle from a ConfigMap.
	CAProviderTypeConfigMap CAProviderType = "ConfigMap"
)

// CAProvider points at a CA bundle held in a Secret or ConfigMap.
type CAProvider struct {
	// Type of the object holding the bundle.
	Type CAProviderType `json:"type"`

	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key inside the object's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`

	// Namespace of the object: required for a ClusterSecretStore, and for a
	// SecretStore empty or its own namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace *string `json:"namespace,omitempty"`
}

// SecretStoreKind names the two store kinds an ExternalSecret can reference.
// +kubebuilder:validation:Enum=SecretStore;ClusterSecretStore
type SecretStoreKind string

const (
	// SecretStoreKindNamespaced is a SecretStore in the referencing object's namespace.
	SecretStoreKindNamespaced SecretStoreKind = "SecretStore"
	// SecretStoreKindCluster is a cluster-scoped ClusterSecretStore.
	SecretStoreKindCluster SecretStoreKind = "ClusterSecretStore"
)

// SecretStoreRef names the store an ExternalSecret reads from.
type SecretStoreRef struct {
	// Name of the store.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`

	// Kind of the store.
	// +optional
	Kind SecretStoreKind `json:"kind,omitempty"`
}

// IsZero reports whether the reference names no store: an ExternalSecret
// whose entries all name their own source leaves spec.secretStoreRef out.
func (r SecretStoreRef) IsZero() bool { return r.Name == "" }
