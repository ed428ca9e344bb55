package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PushSecretSpec says which Kubernetes Secret to push to which stores.
// +kubebuilder:validation:XValidation:rule="(has(self.data) && size(self.data) > 0) || (has(self.dataTo) && size(self.dataTo) > 0)",message="set data (one entry per key) or dataTo (keys by pattern), or both"
type PushSecretSpec struct {
	// SecretStoreRefs are the stores to push to, each named once.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y.name == x.name && (has(y.kind) ? y.kind : 'SecretStore') == (has(x.kind) ? x.kind : 'SecretStore')))",message="each store may be named once"
	SecretStoreRefs []SecretStoreRef `json:"secretStoreRefs"`

	// Selector names the Secret (in this namespace) or the generator whose
	// values are pushed.
	Selector PushSecretSelector `json:"selector"`

	// Data maps keys of the Secret to remote secrets and properties. An entry
	// here wins over a dataTo entry that matches the same key of the Secret.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Data []PushSecretData `json:"data,omitempty"`

	// DataTo pushes the keys of the Secret that match a pattern, without an
	// entry per key (ESO v2's bulk push): each to a remote secret of its own
	// (named by the key, renamed by rewrite), or all of them bundled into one
	// remote secret (remoteKey).
	// +kubebuilder:validation:MaxItems=16
	// +optional
	DataTo []PushSecretDataTo `json:"dataTo,omitempty"`

	// UpdatePolicy: Replace (default) keeps the remote in line with the Secret;
	// IfNotExists writes only remote secrets that do not exist yet.
	// +kubebuilder:validation:Enum=Replace;IfNotExists
	// +optional
	UpdatePolicy string `json:"updatePolicy,omitempty"`

	// DeletionPolicy: Delete removes what baosync pushed when the PushSecret is
	// deleted; None (default) leaves it.
	// +kubebuilder:validation:Enum=Delete;None
	// +optional
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// RefreshInterval is how often the Secret is pushed again (default 1h); 0
	// pushes once, and again only when the PushSecret changes, as ESO; else
	// at least 1s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`
	// +kubebuilder:validation:XValidation:rule="self == '0' || duration(self) == duration('0s') || duration(self) >= duration('1s')",message="refreshInterval must be 0 or at least 1s"
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`
}

// PushSecretSelector names the source: a Secret or a generator.
// +kubebuilder:validation:XValidation:rule="has(self.secret) != has(self.generatorRef)",message="set exactly one of secret and generatorRef"
type PushSecretSelector struct {
	// Secret is the Secret in the PushSecret's namespace.
	// +optional
	Secret *PushSecretSecret `json:"secret,omitempty"`

	// GeneratorRef pushes generated values (ESO's "generate a password and push
	// it" pattern). They are generated once, kept in a Secret owned by the
	// PushSecret, and generated again only when the generator's spec changes.
	// +optional
	GeneratorRef *GeneratorRef `json:"generatorRef,omitempty"`
}

// PushSecretSecret names a Secret.
type PushSecretSecret struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// PushSecretData pushes one key.
type PushSecretData struct {
	// Match says which key goes where.
	Match PushSecretMatch `json:"match"`
	// ConversionStrategy: ReverseUnicode turns the _U<hex>_ escapes of the
	// Secret's key names (written by an ExternalSecret's Unicode conversion)
	// back into their characters before secretKey is looked up and before a
	// whole Secret is pushed; None (or empty) keeps the names.
	// +optional
	ConversionStrategy PushConversionStrategy `json:"conversionStrategy,omitempty"`
}

// PushConversionStrategy says how the key names of the Secret are read.
// +kubebuilder:validation:Enum=None;ReverseUnicode
type PushConversionStrategy string

const (
	// PushConversionNone keeps the Secret's key names.
	PushConversionNone PushConversionStrategy = "None"
	// PushConversionReverseUnicode turns _U<hex>_ escapes into their characters.
	PushConversionReverseUnicode PushConversionStrategy = "ReverseUnicode"
)

// PushSecretDataTo pushes the keys of the Secret that match, to one store or
// the stores a label selector picks among secretStoreRefs.
// +kubebuilder:validation:XValidation:rule="has(self.storeRef.name) || has(self.storeRef.labelSelector)",message="storeRef needs name or labelSelector"
// +kubebuilder:validation:XValidation:rule="!has(self.remoteKey) || !has(self.rewrite) || size(self.rewrite) == 0",message="remoteKey bundles the matched keys into one remote secret; rewrite renames keys in per-key mode (without remoteKey): set one of them"
type PushSecretDataTo struct {
	// StoreRef is the store this entry pushes to: one of secretStoreRefs by
	// name, or those of secretStoreRefs whose labels match.
	StoreRef PushSecretDataToStoreRef `json:"storeRef"`
	// Match selects keys of the Secret by regular expression; without it,
	// every key.
	// +optional
	Match *PushSecretDataToMatch `json:"match,omitempty"`
	// Rewrite renames each matched key into its remote key, step by step (as
	// dataFrom's rewrite); without it the remote key is the key itself.
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Rewrite []ExternalSecretRewrite `json:"rewrite,omitempty"`
	// RemoteKey bundles every matched key into this one remote secret, as a
	// JSON object of key and value, replacing its properties. Without it, each
	// matched key is pushed to a remote secret of its own, and its value, as in
	// ESO, must be a JSON object (it becomes the whole remote secret).
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	RemoteKey string `json:"remoteKey,omitempty"`
	// ConversionStrategy: ReverseUnicode turns the _U<hex>_ escapes of key
	// names into their characters before matching; None (or empty) keeps them.
	// +optional
	ConversionStrategy PushConversionStrategy `json:"conversionStrategy,omitempty"`
}

// PushSecretDataToStoreRef picks the stores of one dataTo entry among the
// PushSecret's secretStoreRefs.
type PushSecretDataToStoreRef struct {
	// Name of a store in secretStoreRefs.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`
	// Kind of the store: SecretStore (when empty) or ClusterSecretStore.
	// +optional
	Kind SecretStoreKind `json:"kind,omitempty"`
	// LabelSelector picks the stores of secretStoreRefs whose labels match.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// PushSecretDataToMatch selects keys of the Secret.
type PushSecretDataToMatch struct {
	// RegExp is an RE2 expression a key must match (anywhere in the key;
	// anchor it with ^ and $).
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	RegExp string `json:"regexp,omitempty"`
}

// PushSecretMatch maps one Secret key to a remote secret.
type PushSecretMatch struct {
	// SecretKey is the key of the Secret to push. Empty pushes the whole
	// Secret, as a JSON object of all its keys, as in ESO.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SecretKey string `json:"secretKey,omitempty"`
	// RemoteRef is where it goes.
	RemoteRef PushSecretRemoteRef `json:"remoteRef"`
}

// PushSecretRemoteRef addresses a remote KV v2 secret and property.
type PushSecretRemoteRef struct {
	// RemoteKey is the remote secret's path (as remoteRef.key of an ExternalSecret).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	RemoteKey string `json:"remoteKey"`
	// Property within the remote secret. Empty (as in ESO) makes the pushed
	// value, which must then be a JSON object, the whole remote secret: its
	// keys become the remote secret's properties, replacing any others.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Property string `json:"property,omitempty"`
}

// PushSecretStatus is the observed state.
type PushSecretStatus struct {
	// Conditions hold Ready: the remote secrets hold the Secret's values.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// RefreshTime is when the Secret was last pushed.
	// +optional
	RefreshTime metav1.Time `json:"refreshTime,omitempty"`
	// CreatedRemoteSecrets lists the remote secrets this PushSecret created, as
	// "Kind/store/remoteKey". For KV v1 stores, which have no metadata to mark
	// them, it is the record of what baosync may overwrite and delete.
	// +optional
	CreatedRemoteSecrets []string `json:"createdRemoteSecrets,omitempty"`
}

// PushSecret writes keys of a Kubernetes Secret into OpenBao or Vault KV. baosync
// marks what it creates (KV v2 custom metadata; for KV v1 the PushSecret's
// status) and never overwrites or deletes a remote secret it did not create,
// except one External Secrets Operator pushed, which the annotation
// baosync.io/adopt-from-eso: "true" lets it take over through a SecretStore.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories={baosync},shortName=bps
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Sync",type=date,JSONPath=`.status.refreshTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PushSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PushSecretSpec   `json:"spec"`
	Status PushSecretStatus `json:"status,omitempty"`
}

// PushSecretList is a list of PushSecrets.
//
// +kubebuilder:object:root=true
type PushSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PushSecret `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PushSecret{}, &PushSecretList{})
}
