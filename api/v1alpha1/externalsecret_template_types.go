package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// ExternalSecretTemplate shapes the written Secret.
type ExternalSecretTemplate struct {
	// Type of the Secret, for example kubernetes.io/dockerconfigjson. Defaults to Opaque.
	// +optional
	Type corev1.SecretType `json:"type,omitempty"`

	// EngineVersion of the template engine. Only v2 exists.
	// +kubebuilder:validation:Enum=v2
	// +optional
	EngineVersion string `json:"engineVersion,omitempty"`

	// Metadata adds labels and annotations to the Secret.
	// +optional
	Metadata ExternalSecretTemplateMetadata `json:"metadata,omitempty"`

	// MergePolicy decides what the templates produce: Replace (only the templated
	// keys, the default) or Merge (the fetched keys plus the templated ones).
	// +optional
	MergePolicy TemplateMergePolicy `json:"mergePolicy,omitempty"`

	// Data maps Secret keys to Go templates (text/template with sprig functions)
	// rendered with the fetched values as their data, e.g.
	// "{{ .username }}:{{ .password }}".
	// +kubebuilder:validation:MaxProperties=256
	// +optional
	Data map[string]string `json:"data,omitempty"`

	// TemplateFrom renders templates kept in ConfigMaps, Secrets or literals.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	TemplateFrom []TemplateFrom `json:"templateFrom,omitempty"`
}

// TemplateMergePolicy decides whether templates replace or extend the fetched keys.
// +kubebuilder:validation:Enum=Replace;Merge
type TemplateMergePolicy string

const (
	// MergePolicyReplace writes only the templated keys.
	MergePolicyReplace TemplateMergePolicy = "Replace"
	// MergePolicyMerge writes the fetched keys and the templated ones.
	MergePolicyMerge TemplateMergePolicy = "Merge"
)

// TemplateFrom is one source of templates.
// +kubebuilder:validation:XValidation:rule="[has(self.configMap), has(self.secret), has(self.literal)].filter(x, x).size() == 1",message="set exactly one of configMap, secret and literal"
type TemplateFrom struct {
	// ConfigMap holds templates in the ExternalSecret's namespace.
	// +optional
	ConfigMap *TemplateRef `json:"configMap,omitempty"`
	// Secret holds templates in the ExternalSecret's namespace.
	// +optional
	Secret *TemplateRef `json:"secret,omitempty"`
	// Literal is a template whose output is a YAML map of keys to values.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	Literal *string `json:"literal,omitempty"`
	// Target is where the output goes: Data (default), Annotations or Labels.
	// +optional
	Target TemplateTarget `json:"target,omitempty"`
	// ValuesDecodingStrategy decodes each rendered value (ESO v2's field):
	// None (the default), Base64, Base64URL or Auto, as a data entry's
	// decodingStrategy.
	// +optional
	ValuesDecodingStrategy DecodingStrategy `json:"valuesDecodingStrategy,omitempty"`
}

// TemplateRef names an object and the keys of it that hold templates.
type TemplateRef struct {
	// Name of the ConfigMap or Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Items are the keys holding templates.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Items []TemplateRefItem `json:"items"`
}

// TemplateRefItem is one key holding a template.
type TemplateRefItem struct {
	// Key in the object's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
	// TemplateAs: Values (the output is the value of Key, the default) or
	// KeysAndValues (the output is a YAML map of keys to values).
	// +optional
	TemplateAs TemplateScope `json:"templateAs,omitempty"`
}

// TemplateScope says how a template's output is read.
// +kubebuilder:validation:Enum=Values;KeysAndValues
type TemplateScope string

const (
	// TemplateScopeValues makes the output the value of the item's key.
	TemplateScopeValues TemplateScope = "Values"
	// TemplateScopeKeysAndValues reads the output as a YAML map.
	TemplateScopeKeysAndValues TemplateScope = "KeysAndValues"
)

// TemplateTarget is where a template's output goes.
// +kubebuilder:validation:Enum=Data;Annotations;Labels
type TemplateTarget string

const (
	// TemplateTargetData writes Secret data.
	TemplateTargetData TemplateTarget = "Data"
	// TemplateTargetAnnotations writes Secret annotations.
	TemplateTargetAnnotations TemplateTarget = "Annotations"
	// TemplateTargetLabels writes Secret labels.
	TemplateTargetLabels TemplateTarget = "Labels"
)

// ExternalSecretTemplateMetadata holds labels and annotations for the Secret.
type ExternalSecretTemplateMetadata struct {
	// Annotations to set on the Secret.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels to set on the Secret.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}
