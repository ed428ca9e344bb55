package v1alpha1

// ExternalSecretFind selects remote secrets by path, name and tags.
type ExternalSecretFind struct {
	// Path limits the search to secrets under it (relative to the store's mount).
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Path *string `json:"path,omitempty"`

	// Name matches the secret's path below the mount.
	// +optional
	Name *FindName `json:"name,omitempty"`

	// Tags match KV v2 custom metadata: every tag must be present with its value.
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	Tags map[string]string `json:"tags,omitempty"`

	// ConversionStrategy makes keys valid: Default writes "/" as "_"; Unicode
	// also writes every other invalid character as _U<hex>_.
	// +optional
	ConversionStrategy ConversionStrategy `json:"conversionStrategy,omitempty"`

	// DecodingStrategy decodes each found value (see data[].remoteRef).
	// +optional
	DecodingStrategy DecodingStrategy `json:"decodingStrategy,omitempty"`

	// NullBytePolicy Fail refuses a found value (after decoding) that holds a
	// NUL byte, as ESO does, with DecodingFailed; Ignore (the default) writes it.
	// +kubebuilder:validation:Enum=Ignore;Fail
	// +optional
	NullBytePolicy string `json:"nullBytePolicy,omitempty"`
}

// FindName matches secret names.
type FindName struct {
	// RegExp is an RE2 regular expression.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	RegExp string `json:"regexp"`
}

// ConversionStrategy makes found names valid Secret keys.
// +kubebuilder:validation:Enum=Default;Unicode
type ConversionStrategy string

const (
	// ConversionStrategyDefault writes "/" as "_".
	ConversionStrategyDefault ConversionStrategy = "Default"
	// ConversionStrategyUnicode also writes other invalid characters as _U<hex>_.
	ConversionStrategyUnicode ConversionStrategy = "Unicode"
)

// ExternalSecretRewrite is one renaming step.
// +kubebuilder:validation:XValidation:rule="has(self.regexp) != has(self.transform)",message="set exactly one of regexp and transform"
type ExternalSecretRewrite struct {
	// Regexp replaces matches of source in each key with target ($1 refers to groups).
	// +optional
	Regexp *RewriteRegexp `json:"regexp,omitempty"`
	// Transform renders each key through a template; .value is the key.
	// +optional
	Transform *RewriteTransform `json:"transform,omitempty"`
}

// RewriteRegexp replaces by regular expression.
type RewriteRegexp struct {
	// Source is an RE2 regular expression.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Source string `json:"source"`
	// Target is the replacement.
	// +kubebuilder:validation:MaxLength=1024
	Target string `json:"target"`
}

// RewriteTransform renames through a template.
type RewriteTransform struct {
	// Template is a Go template; .value is the key, e.g. "{{ .value | upper }}".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Template string `json:"template"`
}
