package v1alpha1

// VaultKVStoreVersion is the version of the KV secrets engine a store reads.
// +kubebuilder:validation:Enum=v1;v2
type VaultKVStoreVersion string

const (
	// VaultKVStoreV1 is the unversioned KV engine.
	VaultKVStoreV1 VaultKVStoreVersion = "v1"
	// VaultKVStoreV2 is the versioned KV engine (data/ and metadata/ paths).
	VaultKVStoreV2 VaultKVStoreVersion = "v2"
)

// VaultProvider says where an OpenBao or Vault server is and how to log in to it.
type VaultProvider struct {
	// Server is the address of the server, for example https://bao.example.com:8200.
	// Plain http is used only when the address says http.
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/.*)?$`
	// +kubebuilder:validation:MaxLength=2048
	Server string `json:"server"`

	// Path is the mount path of the KV engine, for example "secret". When empty,
	// the first segment of each remote key names the mount.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^[^/\s][^\s]*$`
	// +optional
	Path *string `json:"path,omitempty"`

	// Version of the KV engine at Path.
	// +optional
	Version VaultKVStoreVersion `json:"version,omitempty"`

	// Namespace is the OpenBao/Vault namespace (X-Vault-Namespace) to read from.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Namespace *string `json:"namespace,omitempty"`

	// CABundle is a PEM bundle of CAs that sign the server's certificate.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`

	// CAProvider reads the PEM CA bundle from a Secret or ConfigMap.
	// +optional
	CAProvider *CAProvider `json:"caProvider,omitempty"`

	// TLS holds a client certificate presented on every connection (mutual TLS),
	// independent of the auth method.
	// +optional
	TLS *VaultClientTLS `json:"tls,omitempty"`

	// Headers are extra HTTP headers sent with every request.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Headers map[string]string `json:"headers,omitempty"`

	// ReadYourWrites makes reads consistent with earlier writes of this client on
	// performance standbys and replicas (X-Vault-Index).
	// +optional
	ReadYourWrites bool `json:"readYourWrites,omitempty"`

	// ForwardInconsistent, together with readYourWrites, asks a standby that is
	// behind to forward the request to the active node instead of failing
	// (X-Vault-Inconsistent: forward-active-node, which the server's replication
	// configuration must allow). Without readYourWrites it does nothing, as in ESO.
	// +optional
	ForwardInconsistent bool `json:"forwardInconsistent,omitempty"`

	// CheckAndSet with required: true makes every PushSecret write to a KV v2
	// secret a check-and-set write (options.cas, the version read just
	// before), as ESO does; a mount configured with cas_required refuses other
	// writes. A change made by someone else in between fails the push, which is
	// retried. KV v1 has no versions and ignores it.
	// +optional
	CheckAndSet *VaultCheckAndSet `json:"checkAndSet,omitempty"`

	// Auth says how to log in. Exactly one method is set.
	Auth VaultAuth `json:"auth"`
}

// VaultClientTLS names the Secrets holding a client certificate and its key.
type VaultClientTLS struct {
	// CertSecretRef holds the PEM client certificate (key defaults to tls.crt).
	// +optional
	CertSecretRef *SecretKeySelector `json:"certSecretRef,omitempty"`
	// KeySecretRef holds the PEM private key (key defaults to tls.key).
	// +optional
	KeySecretRef *SecretKeySelector `json:"keySecretRef,omitempty"`
}

// VaultAuth selects exactly one way to obtain a token.
// +kubebuilder:validation:XValidation:rule="[has(self.tokenSecretRef), has(self.appRole), has(self.kubernetes), has(self.userPass), has(self.ldap), has(self.jwt), has(self.cert)].filter(x, x).size() == 1",message="set exactly one auth method: tokenSecretRef, appRole, kubernetes, userPass, ldap, jwt or cert"
type VaultAuth struct {
	// Namespace is the OpenBao/Vault namespace of the auth mount, when it differs
	// from the provider's namespace.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Namespace *string `json:"namespace,omitempty"`

	// TokenSecretRef reads a ready token from a Secret.
	// +optional
	TokenSecretRef *SecretKeySelector `json:"tokenSecretRef,omitempty"`

	// AppRole logs in with a role ID and a secret ID.
	// +optional
	AppRole *VaultAppRole `json:"appRole,omitempty"`

	// Kubernetes logs in with a ServiceAccount token.
	// +optional
	Kubernetes *VaultKubernetesAuth `json:"kubernetes,omitempty"`

	// UserPass logs in with a username and password.
	// +optional
	UserPass *VaultUserPassAuth `json:"userPass,omitempty"`

	// Ldap logs in with an LDAP username and password (ESO's auth.ldap).
	// +optional
	Ldap *VaultLdapAuth `json:"ldap,omitempty"`

	// Jwt logs in with a JWT, read from a Secret or requested for a ServiceAccount.
	// +optional
	Jwt *VaultJwtAuth `json:"jwt,omitempty"`

	// Cert logs in with a TLS client certificate.
	// +optional
	Cert *VaultCertAuth `json:"cert,omitempty"`
}

// VaultAppRole is AppRole login.
// +kubebuilder:validation:XValidation:rule="has(self.roleId) != has(self.roleRef)",message="set exactly one of roleId and roleRef"
type VaultAppRole struct {
	// Path is the mount path of the AppRole auth method.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Path string `json:"path,omitempty"`

	// RoleID is the role ID, given inline (it is not a secret).
	// +kubebuilder:validation:MaxLength=512
	// +optional
	RoleID *string `json:"roleId,omitempty"`

	// RoleRef reads the role ID from a Secret.
	// +optional
	RoleRef *SecretKeySelector `json:"roleRef,omitempty"`

	// SecretRef reads the secret ID from a Secret.
	SecretRef SecretKeySelector `json:"secretRef"`
}

// VaultKubernetesAuth is Kubernetes login: the server reviews a ServiceAccount
// token with the cluster's TokenReview API. With both serviceAccountRef and
// secretRef set (ESO's documentation examples do), serviceAccountRef is used
// and secretRef is ignored, as in ESO.
type VaultKubernetesAuth struct {
	// MountPath is the mount path of the Kubernetes auth method.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Path string `json:"mountPath,omitempty"`

	// Role is the Vault role to log in as.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Role string `json:"role"`

	// ServiceAccountRef requests a short-lived token for this ServiceAccount with
	// the TokenRequest API (the recommended way).
	// +optional
	ServiceAccountRef *ServiceAccountSelector `json:"serviceAccountRef,omitempty"`

	// SecretRef reads a long-lived ServiceAccount token from a Secret.
	// When neither ref is set, the operator's own projected token (audience
	// vault) is used: only by a ClusterSecretStore, and only when the operator
	// runs with --cluster-store-operator-identity. A SecretStore must set one.
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`
}

// VaultUserPassAuth is username and password login.
type VaultUserPassAuth struct {
	// Path is the mount path of the userpass auth method.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Path string `json:"path,omitempty"`

	// Username to log in as.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Username string `json:"username"`

	// SecretRef reads the password from a Secret.
	SecretRef SecretKeySelector `json:"secretRef"`
}

// VaultLdapAuth is LDAP login: the server binds to its directory as the user
// with the password, and maps the user's LDAP groups to policies.
type VaultLdapAuth struct {
	// Path is the mount path of the LDAP auth method.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Path string `json:"path,omitempty"`

	// Username is the LDAP user to log in as.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Username string `json:"username"`

	// SecretRef reads the user's LDAP password from a Secret.
	SecretRef SecretKeySelector `json:"secretRef"`
}

// VaultJwtAuth is JWT/OIDC login. With both secretRef and
// kubernetesServiceAccountToken set, secretRef is used, as in ESO.
// +kubebuilder:validation:XValidation:rule="has(self.secretRef) || has(self.kubernetesServiceAccountToken)",message="set secretRef or kubernetesServiceAccountToken"
type VaultJwtAuth struct {
	// Path is the mount path of the JWT auth method.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Path string `json:"path,omitempty"`

	// Role is the Vault role to log in as; empty uses the mount's default role.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Role string `json:"role,omitempty"`

	// SecretRef reads the JWT from a Secret.
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`

	// KubernetesServiceAccountToken requests a short-lived ServiceAccount token
	// with the TokenRequest API and uses it as the JWT.
	// +optional
	KubernetesServiceAccountToken *VaultKubernetesServiceAccountTokenAuth `json:"kubernetesServiceAccountToken,omitempty"`
}

// VaultKubernetesServiceAccountTokenAuth describes the token to request for JWT login.
type VaultKubernetesServiceAccountTokenAuth struct {
	// ServiceAccountRef names the ServiceAccount.
	ServiceAccountRef ServiceAccountSelector `json:"serviceAccountRef"`

	// Audiences of the token; defaults to ["vault"]. Overrides
	// serviceAccountRef.audiences. A token the API server itself accepts is
	// never sent.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[!-~]+$`
	// +optional
	Audiences []string `json:"audiences,omitempty"`

	// ExpirationSeconds is accepted for ESO compatibility. baosync always
	// requests 600 seconds, the API server's minimum: the token is used once,
	// at once, for a login, and a longer life would only serve a thief.
	// +kubebuilder:validation:Minimum=600
	// +kubebuilder:validation:Maximum=86400
	// +optional
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty"`
}

// VaultCertAuth is TLS certificate login.
type VaultCertAuth struct {
	// Path is the mount path of the cert auth method.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Path string `json:"path,omitempty"`

	// Role is the certificate role to log in as; empty lets the server pick.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Role string `json:"role,omitempty"`

	// ClientCert reads the PEM client certificate from a Secret.
	ClientCert SecretKeySelector `json:"clientCert"`

	// SecretRef reads the PEM private key from a Secret.
	SecretRef SecretKeySelector `json:"secretRef"`
}

// VaultCheckAndSet asks for check-and-set writes (ESO's checkAndSet).
type VaultCheckAndSet struct {
	// Required sends options.cas with every KV v2 write.
	// +optional
	Required bool `json:"required,omitempty"`
}
