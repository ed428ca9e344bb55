package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GeneratorKind names a kind of generator, as in ESO.
// +kubebuilder:validation:Enum=Password;UUID;VaultDynamicSecret
type GeneratorKind string

const (
	// GeneratorKindPassword generates a random password.
	GeneratorKindPassword GeneratorKind = "Password"
	// GeneratorKindUUID generates a random (version 4) UUID.
	GeneratorKindUUID GeneratorKind = "UUID"
	// GeneratorKindVaultDynamicSecret asks OpenBao or Vault for a dynamic secret.
	GeneratorKindVaultDynamicSecret GeneratorKind = "VaultDynamicSecret"
	// GeneratorKindCluster is the kind of a ClusterGenerator reference.
	GeneratorKindCluster = "ClusterGenerator"
)

// GeneratorRef points at a generator: a Password, UUID or VaultDynamicSecret in
// the referencing object's own namespace, or a ClusterGenerator.
type GeneratorRef struct {
	// APIVersion of the generator. baosync.io/v1alpha1 is the only one served;
	// baosync convert rewrites ESO's generators.external-secrets.io/v1alpha1.
	// +kubebuilder:validation:Enum=baosync.io/v1alpha1
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the generator.
	// +kubebuilder:validation:Enum=Password;UUID;VaultDynamicSecret;ClusterGenerator
	Kind string `json:"kind"`

	// Name of the generator. A namespaced generator is looked up in the
	// referencing object's namespace only.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
}

// PasswordSpec says how a password is generated. The fields and their
// defaults are ESO's.
// +kubebuilder:validation:XValidation:rule="(has(self.digits) ? self.digits : 0) + (has(self.symbols) ? self.symbols : 0) <= (has(self.length) ? self.length : 24)",message="digits plus symbols must not exceed length"
type PasswordSpec struct {
	// Length of the password (default 24).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1024
	Length int `json:"length,omitempty"`

	// Digits is how many characters are digits; defaults to a quarter of the
	// length.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1024
	// +optional
	Digits *int `json:"digits,omitempty"`

	// Symbols is how many characters are symbols; defaults to a quarter of the
	// length.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1024
	// +optional
	Symbols *int `json:"symbols,omitempty"`

	// SymbolCharacters are the symbols to choose from; defaults to
	// ~!@#$%^&*()_+`-={}|[]\:"<>?,./ as in ESO.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +optional
	SymbolCharacters *string `json:"symbolCharacters,omitempty"`

	// NoUpper leaves out upper-case letters.
	// +optional
	NoUpper bool `json:"noUpper"`

	// AllowRepeat lets a character appear more than once.
	// +optional
	AllowRepeat bool `json:"allowRepeat"`

	// Encoding of the password written to the key "password": raw (default),
	// base64, base64url, base32 or hex.
	// +kubebuilder:validation:Enum=raw;base64;base64url;base32;hex
	// +optional
	Encoding *string `json:"encoding,omitempty"`

	// SecretKeys are the keys that each get a password of their own, made
	// with the same settings, as in ESO (default: the one key "password").
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[-._a-zA-Z0-9]+$`
	// +listType=set
	// +optional
	SecretKeys []string `json:"secretKeys,omitempty"`
}

// UUIDSpec has no settings: a UUID generator yields a random version 4 UUID
// under the key "uuid".
type UUIDSpec struct{}

// Password generates a random password under the key "password" (or one per
// key of spec.secretKeys). Referenced
// from an ExternalSecret's dataFrom[].sourceRef.generatorRef or a PushSecret's
// selector.generatorRef, it is generated once and kept (see docs/generators.md).
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories={baosync,baosync-generators}
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Password struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec PasswordSpec `json:"spec"`
}

// PasswordList is a list of Passwords.
//
// +kubebuilder:object:root=true
type PasswordList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Password `json:"items"`
}

// UUID generates a random version 4 UUID under the key "uuid".
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories={baosync,baosync-generators}
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UUID struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec UUIDSpec `json:"spec,omitempty"`
}

// UUIDList is a list of UUIDs.
//
// +kubebuilder:object:root=true
type UUIDList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UUID `json:"items"`
}

// ClusterGeneratorSpec holds the kind and the spec of a generator.
// +kubebuilder:validation:XValidation:rule="self.kind == 'Password' ? has(self.generator.passwordSpec) : true",message="kind Password needs generator.passwordSpec"
// +kubebuilder:validation:XValidation:rule="self.kind == 'UUID' ? has(self.generator.uuidSpec) : true",message="kind UUID needs generator.uuidSpec"
// +kubebuilder:validation:XValidation:rule="self.kind == 'VaultDynamicSecret' ? has(self.generator.vaultDynamicSecretSpec) : true",message="kind VaultDynamicSecret needs generator.vaultDynamicSecretSpec"
// +kubebuilder:validation:XValidation:rule="!has(self.tenancy) || (self.kind == 'VaultDynamicSecret' && (has(self.generator.vaultDynamicSecretSpec.provider.auth.kubernetes) || (has(self.generator.vaultDynamicSecretSpec.provider.auth.jwt) && has(self.generator.vaultDynamicSecretSpec.provider.auth.jwt.kubernetesServiceAccountToken))))",message="tenancy applies to a VaultDynamicSecret generator with auth.kubernetes, or auth.jwt with kubernetesServiceAccountToken"
type ClusterGeneratorSpec struct {
	// Kind of the generator held in generator.
	Kind GeneratorKind `json:"kind"`

	// Generator holds the spec of exactly one generator.
	Generator GeneratorSpec `json:"generator"`

	// Conditions restrict which namespaces may use the generator, as a
	// ClusterSecretStore's: a namespace may when it matches any one
	// condition; no conditions allow all.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Conditions []ClusterSecretStoreCondition `json:"conditions,omitempty"`

	// Tenancy makes a VaultDynamicSecret generator log in as each namespace
	// that uses it, with a ServiceAccount of that namespace, so that the
	// server's policy for that namespace decides what it issues.
	// +optional
	Tenancy *TenantIdentity `json:"tenancy,omitempty"`
}

// GeneratorSpec holds exactly one generator's spec.
// +kubebuilder:validation:XValidation:rule="[has(self.passwordSpec), has(self.uuidSpec), has(self.vaultDynamicSecretSpec)].filter(x, x).size() == 1",message="set exactly one of passwordSpec, uuidSpec and vaultDynamicSecretSpec"
type GeneratorSpec struct {
	// PasswordSpec generates a password.
	// +optional
	PasswordSpec *PasswordSpec `json:"passwordSpec,omitempty"`
	// UUIDSpec generates a UUID.
	// +optional
	UUIDSpec *UUIDSpec `json:"uuidSpec,omitempty"`
	// VaultDynamicSecretSpec asks OpenBao or Vault for a dynamic secret.
	// +optional
	VaultDynamicSecretSpec *VaultDynamicSecretSpec `json:"vaultDynamicSecretSpec,omitempty"`
}

// ClusterGenerator is a cluster-scoped generator that ExternalSecrets and
// PushSecrets of every namespace may reference; like a ClusterSecretStore it
// is for cluster admins. The values it generates are still kept per
// referencing object, in that object's namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories={baosync,baosync-generators}
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterGenerator struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ClusterGeneratorSpec `json:"spec"`
}

// ClusterGeneratorList is a list of ClusterGenerators.
//
// +kubebuilder:object:root=true
type ClusterGeneratorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterGenerator `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Password{}, &PasswordList{}, &UUID{}, &UUIDList{},
		&ClusterGenerator{}, &ClusterGeneratorList{})
}
