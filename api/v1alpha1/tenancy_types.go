package v1alpha1

// Templates of a tenancy section are plain text with two placeholders and no
// functions: {namespace} is the name of the namespace that uses the store, and
// {label:<key>} the value of that namespace's label <key>. Nothing a tenant
// writes in its own objects reaches a template. internal/tenancy parses them;
// admission checks them with the same grammar.

// StoreTenancy makes a ClusterSecretStore serve every namespace that uses it
// as that namespace: each one logs in with its own ServiceAccount and reaches
// only its own part of the server, derived from its name (and labels the
// admin names) by templates. Only cluster admins write a ClusterSecretStore,
// so a tenant chooses none of it. See docs/multi-tenancy.md.
//
// +kubebuilder:validation:XValidation:rule="(has(self.pathPrefix) && ('/' + self.pathPrefix + '/').contains('/{namespace}/')) || (has(self.__namespace__) && ('/' + self.__namespace__ + '/').contains('/{namespace}/'))",message="pathPrefix or namespace must hold {namespace} as a whole path segment, so that no two namespaces share a part of the server"
type StoreTenancy struct {
	TenantIdentity `json:",inline"`

	// Mount is the KV mount every namespace reads from, replacing
	// provider.vault.path; a template such as "kv-{label:team}". One of the
	// two must be set.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^{}]|[{]namespace[}]|[{]label:[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?[}])*$`
	// +optional
	Mount *string `json:"mount,omitempty"`

	// PathPrefix is the part of the mount a namespace may read, list and push
	// to, for example "apps/{namespace}/". Every remote key, find path and
	// push key must lie below it, written in full as the server names it;
	// others are refused (PermissionDenied) before any request is sent.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^{}]|[{]namespace[}]|[{]label:[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?[}])*$`
	// +optional
	PathPrefix string `json:"pathPrefix,omitempty"`
}

// TenantIdentity is who a namespace logs in as: a ServiceAccount of its own,
// with the store's Kubernetes or JWT auth method, a role and an OpenBao/Vault
// namespace derived from it.
type TenantIdentity struct {
	// ServiceAccountName is the ServiceAccount, in each namespace that uses
	// the store, whose token logs in (Kubernetes auth, or JWT auth with
	// kubernetesServiceAccountToken). The store's own serviceAccountRef, if
	// any, is not used.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	ServiceAccountName string `json:"serviceAccountName"`

	// Role replaces the auth method's role, for example "ns-{namespace}".
	// Unset keeps the auth method's role (one role for all, whose policy is
	// templated on the ServiceAccount's namespace). A role that names a label
	// must name {namespace} too.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="!self.contains('{label:') || self.contains('{namespace}')",message="a role that names a label must name {namespace} too: a tenant who can label its namespace would choose another's role"
	// +kubebuilder:validation:Pattern=`^([^{}]|[{]namespace[}]|[{]label:[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?[}])*$`
	// +optional
	Role *string `json:"role,omitempty"`

	// Namespace replaces provider.vault.namespace (the OpenBao/Vault
	// namespace of reads and logins), for example "tenants/{namespace}".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^{}]|[{]namespace[}]|[{]label:[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?[}])*$`
	// +optional
	Namespace *string `json:"namespace,omitempty"`
}

// TenancyStatus is what a ClusterSecretStore with a tenancy section, or with
// referent authentication, tells about the namespaces it serves.
type TenancyStatus struct {
	// Namespaces is how many namespaces used the store since the operator
	// started.
	Namespaces int `json:"namespaces"`
	// LoginFailures is how many of them failed their last login.
	// +optional
	LoginFailures int `json:"loginFailures,omitempty"`
	// Failed lists namespaces whose last login failed, with the Reason
	// (at most 20, by name).
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	Failed []TenantFailure `json:"failed,omitempty"`
}

// TenantFailure is one namespace whose login to a shared store failed.
type TenantFailure struct {
	// Namespace that failed to log in.
	Namespace string `json:"namespace"`
	// Reason of the failure, as the ExternalSecret's Ready condition gives it.
	Reason string `json:"reason"`
	// Message says what failed, without any value.
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
}
