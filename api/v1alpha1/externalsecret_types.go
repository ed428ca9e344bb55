package v1alpha1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExternalSecretSpec says which remote values to read and which Secret to write.
// +kubebuilder:validation:XValidation:rule="(has(self.data) ? size(self.data) : 0) + (has(self.dataFrom) ? size(self.dataFrom) : 0) > 0",message="set at least one entry in data or dataFrom"
// +kubebuilder:validation:XValidation:rule="has(self.secretStoreRef) || ((!has(self.data) || self.data.all(d, has(d.sourceRef))) && (!has(self.dataFrom) || self.dataFrom.all(d, has(d.sourceRef))))",message="secretStoreRef is required unless every data entry names its store (sourceRef.storeRef) and every dataFrom entry its store or generator (sourceRef)"
type ExternalSecretSpec struct {
	// SecretStoreRef names the store to read from. As in ESO, it may be left
	// out when every entry names its own source (a dataFrom generatorRef, or a
	// sourceRef.storeRef); then the first entry's store decides which operator
	// serves it, and one of generators alone is served by the operator without
	// a controller class.
	// +optional
	SecretStoreRef SecretStoreRef `json:"secretStoreRef,omitzero"`

	// Target describes the Secret to write.
	// +optional
	Target ExternalSecretTarget `json:"target,omitempty"`

	// RefreshInterval is how often the remote values are read again, for example
	// "1h" or "30s". "0" reads them once and again only when the ExternalSecret
	// changes. Anything else must be at least 1s, so that no object can keep a
	// worker and its store busy in a loop.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`
	// +kubebuilder:validation:XValidation:rule="self == '0' || duration(self) == duration('0s') || duration(self) >= duration('1s')",message="refreshInterval must be 0 (read once) or at least 1s"
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`

	// RefreshPolicy decides what triggers a read: Periodic (every refreshInterval,
	// the default), OnChange (only when the ExternalSecret changes) or CreatedOnce
	// (only while the target Secret does not exist).
	// +optional
	RefreshPolicy RefreshPolicy `json:"refreshPolicy,omitempty"`

	// SyncWindows restricts when periodic refreshes (and instant updates) run,
	// for a change freeze (ESO v2's field): under kind allow only while a
	// window is open, under deny never while one is. Evaluated in UTC. A
	// first sync, a change of the ExternalSecret, a retry and the repair of
	// a missing or edited Secret are never held back.
	// +optional
	SyncWindows *SyncWindows `json:"syncWindows,omitempty"`

	// Data maps single remote values to keys of the Secret.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y.secretKey == x.secretKey))",message="each secretKey may appear only once in data"
	// +optional
	Data []ExternalSecretData `json:"data,omitempty"`

	// DataFrom copies whole remote secrets into the Secret, one key per property.
	// Later entries win over earlier ones; data wins over dataFrom.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	DataFrom []ExternalSecretDataFromRemoteRef `json:"dataFrom,omitempty"`
}

// RefreshPolicy decides what triggers a read of the remote values.
// +kubebuilder:validation:Enum=Periodic;OnChange;CreatedOnce
type RefreshPolicy string

const (
	// RefreshPolicyPeriodic reads every refreshInterval.
	RefreshPolicyPeriodic RefreshPolicy = "Periodic"
	// RefreshPolicyOnChange reads only when the ExternalSecret changes.
	RefreshPolicyOnChange RefreshPolicy = "OnChange"
	// RefreshPolicyCreatedOnce reads only while the target Secret does not exist.
	RefreshPolicyCreatedOnce RefreshPolicy = "CreatedOnce"
)

// ExternalSecretTarget describes the Secret baosync writes.
// +kubebuilder:validation:XValidation:rule="!(has(self.creationPolicy) && (self.creationPolicy == 'Merge' || self.creationPolicy == 'CreateOrMerge') && has(self.deletionPolicy) && self.deletionPolicy == 'Delete')",message="deletionPolicy Delete cannot be combined with creationPolicy Merge or CreateOrMerge: baosync does not own a merged Secret; use deletionPolicy Merge"
// +kubebuilder:validation:XValidation:rule="!(has(self.creationPolicy) && self.creationPolicy == 'None' && has(self.deletionPolicy) && self.deletionPolicy != 'Retain')",message="creationPolicy None writes nothing, so deletionPolicy must be Retain"
type ExternalSecretTarget struct {
	// Name of the Secret; defaults to the ExternalSecret's name.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	Name string `json:"name,omitempty"`

	// CreationPolicy decides how the Secret is owned: Owner (created and owned by
	// the ExternalSecret), Orphan (created, not owned), Merge (keys merged into an
	// existing Secret) or None (nothing written).
	// +optional
	CreationPolicy CreationPolicy `json:"creationPolicy,omitempty"`

	// DeletionPolicy decides what happens to the Secret when the remote secret no
	// longer exists: Retain (keep it), Delete (delete it), Merge (remove this
	// ExternalSecret's keys from it).
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// Template sets the Secret's type and metadata.
	// +optional
	Template *ExternalSecretTemplate `json:"template,omitempty"`

	// Immutable marks the written Secret immutable. A change of value then needs
	// the Secret deleted first.
	// +optional
	Immutable bool `json:"immutable,omitempty"`

	// RolloutRestartTargets are workloads in the same namespace restarted (their
	// pod template annotated, as `kubectl rollout restart` does) whenever the
	// Secret's data changes, so that they pick up rotated values. The operator
	// needs patch on them, which an admin grants as an opt-in (Helm value
	// rolloutRestart.enabled); without it, an event RolloutRestartFailed says so.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	RolloutRestartTargets []RolloutRestartTarget `json:"rolloutRestartTargets,omitempty"`
}

// RolloutRestartTarget names a workload to restart.
type RolloutRestartTarget struct {
	// Kind of the workload; argo.Rollout is an Argo Rollouts Rollout
	// (argoproj.io/v1alpha1), restarted through its spec.restartAt.
	// +kubebuilder:validation:Enum=Deployment;StatefulSet;DaemonSet;argo.Rollout
	Kind string `json:"kind"`
	// Name of the workload.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// CreationPolicy decides how the target Secret is owned.
// +kubebuilder:validation:Enum=Owner;Orphan;Merge;None;CreateOrMerge
type CreationPolicy string

const (
	// CreationPolicyOwner creates the Secret with an owner reference to the ExternalSecret.
	CreationPolicyOwner CreationPolicy = "Owner"
	// CreationPolicyOrphan creates the Secret without an owner reference.
	CreationPolicyOrphan CreationPolicy = "Orphan"
	// CreationPolicyMerge merges keys into a Secret that must already exist.
	CreationPolicyMerge CreationPolicy = "Merge"
	// CreationPolicyCreateOrMerge (ESO v2.8) creates the Secret, not owned,
	// when it does not exist, and merges keys into it, keeping the others,
	// when it does.
	CreationPolicyCreateOrMerge CreationPolicy = "CreateOrMerge"
	// CreationPolicyNone writes nothing; the ExternalSecret only reports.
	CreationPolicyNone CreationPolicy = "None"
)

// DeletionPolicy decides what happens when the remote secret no longer exists.
// +kubebuilder:validation:Enum=Retain;Delete;Merge
type DeletionPolicy string

const (
	// DeletionPolicyRetain keeps the Secret as it is.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete deletes the Secret.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyMerge removes this ExternalSecret's keys from the Secret.
	DeletionPolicyMerge DeletionPolicy = "Merge"
)

// ExternalSecretData maps one remote value to one key of the Secret.
type ExternalSecretData struct {
	// SecretKey is the key in the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	SecretKey string `json:"secretKey"`

	// RemoteRef says which remote value to read.
	RemoteRef ExternalSecretDataRemoteRef `json:"remoteRef"`

	// SourceRef reads this entry from another store than spec.secretStoreRef,
	// under the same rules (a SecretStore of the ExternalSecret's namespace, or a
	// ClusterSecretStore whose conditions admit it).
	// +optional
	SourceRef *StoreSourceRef `json:"sourceRef,omitempty"`
}

// StoreSourceRef names the store a data entry is read from. ESO's deprecated
// data[].sourceRef.generatorRef is not served: use dataFrom for generators.
type StoreSourceRef struct {
	// StoreRef names the store.
	StoreRef SecretStoreRef `json:"storeRef"`
}

// ExternalSecretDataRemoteRef addresses a remote secret, or one property of it.
type ExternalSecretDataRemoteRef struct {
	// Key is the path of the remote secret, relative to the store's path (or
	// starting with the mount when the store has no path).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Key string `json:"key"`

	// Property selects one value inside the remote secret. A property that is a key
	// of the secret is used as is; otherwise it is a gjson path into nested values
	// (for example "db.password"). Empty selects the whole secret as JSON.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Property string `json:"property,omitempty"`

	// Version pins a KV v2 version; empty reads the latest.
	// +kubebuilder:validation:Pattern=`^[0-9]*$`
	// +kubebuilder:validation:MaxLength=20
	// +optional
	Version string `json:"version,omitempty"`

	// DecodingStrategy decodes the value before it is written: None, Base64,
	// Base64URL or Auto (base64 when it decodes, otherwise as is).
	// +optional
	DecodingStrategy DecodingStrategy `json:"decodingStrategy,omitempty"`

	// MetadataPolicy Fetch reads the KV v2 secret's metadata instead of its
	// data, as ESO does: created_time, current_version, delete_version_after and
	// every custom metadata key, as strings (property selects one); None
	// (default) reads data.
	// +kubebuilder:validation:Enum=None;Fetch
	// +optional
	MetadataPolicy string `json:"metadataPolicy,omitempty"`

	// NullBytePolicy Fail refuses a value (after decoding) that holds a NUL
	// byte, as ESO does, with DecodingFailed; Ignore (the default) writes it.
	// +kubebuilder:validation:Enum=Ignore;Fail
	// +optional
	NullBytePolicy string `json:"nullBytePolicy,omitempty"`

	// ConversionStrategy makes the property names a dataFrom extract returns
	// valid Secret keys, as ESO does: Default (or empty) writes every
	// character a key may not hold as "_", Unicode as _U<hex>_. Not applied
	// when the entry has a rewrite (which names the keys), and without effect
	// on a data entry, whose key is its secretKey.
	// +optional
	ConversionStrategy ConversionStrategy `json:"conversionStrategy,omitempty"`
}

// DecodingStrategy decodes a remote value.
// +kubebuilder:validation:Enum=None;Base64;Base64URL;Auto
type DecodingStrategy string

const (
	// DecodingStrategyNone writes the value as it is.
	DecodingStrategyNone DecodingStrategy = "None"
	// DecodingStrategyBase64 decodes standard base64.
	DecodingStrategyBase64 DecodingStrategy = "Base64"
	// DecodingStrategyBase64URL decodes URL-safe base64.
	DecodingStrategyBase64URL DecodingStrategy = "Base64URL"
	// DecodingStrategyAuto decodes base64 or base64url when the value is valid in
	// one of them, and otherwise writes it as it is.
	DecodingStrategyAuto DecodingStrategy = "Auto"
)

// ExternalSecretDataFromRemoteRef copies many remote values at once.
// +kubebuilder:validation:XValidation:rule="has(self.sourceRef) && has(self.sourceRef.generatorRef) ? !has(self.extract) && !has(self.find) : [has(self.extract), has(self.find)].filter(x, x).size() == 1",message="set exactly one of extract, find and sourceRef.generatorRef"
type ExternalSecretDataFromRemoteRef struct {
	// Extract copies every property of one remote secret into the Secret. Values
	// that are not strings are written as JSON.
	// +optional
	Extract *ExternalSecretDataRemoteRef `json:"extract,omitempty"`

	// Find copies many remote secrets, one Secret key each (the secret's path
	// with "/" written as "_"), the value being the secret as JSON. KV v2 only.
	// +optional
	Find *ExternalSecretFind `json:"find,omitempty"`

	// SourceRef reads extract or find from another store than
	// spec.secretStoreRef (storeRef), or takes the values from a generator
	// instead of a store (generatorRef, alone in the entry). Generated values are
	// kept (see status.generated) and generated again only when the generator's
	// spec changes or, with refreshPolicy Periodic and a refreshInterval above 0,
	// once per refreshInterval.
	// +optional
	SourceRef *StoreGeneratorSourceRef `json:"sourceRef,omitempty"`

	// Rewrite renames the keys this entry produced, step by step.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Rewrite []ExternalSecretRewrite `json:"rewrite,omitempty"`
}

// StoreGeneratorSourceRef names where a dataFrom entry's values come from: a
// store or a generator.
// +kubebuilder:validation:XValidation:rule="has(self.storeRef) != has(self.generatorRef)",message="set exactly one of storeRef and generatorRef"
type StoreGeneratorSourceRef struct {
	// StoreRef reads the entry's extract or find from this store.
	// +optional
	StoreRef *SecretStoreRef `json:"storeRef,omitempty"`
	// GeneratorRef points at the generator.
	// +optional
	GeneratorRef *GeneratorRef `json:"generatorRef,omitempty"`
}

// GeneratedStatus describes the values one dataFrom generator entry produced:
// when, and for a dynamic secret the lease that backs them. It never holds a
// value.
type GeneratedStatus struct {
	// Index of the entry in spec.dataFrom.
	// +kubebuilder:validation:Minimum=0
	Index int32 `json:"index"`
	// Kind of the generator.
	Kind string `json:"kind"`
	// Name of the generator.
	Name string `json:"name"`
	// GeneratedTime is when the values in use were generated or issued.
	// +optional
	GeneratedTime *metav1.Time `json:"generatedTime,omitempty"`
	// RotationTime is when new values will be generated or issued, if planned.
	// +optional
	RotationTime *metav1.Time `json:"rotationTime,omitempty"`
	// LeaseID is the lease of a dynamic secret.
	// +optional
	LeaseID string `json:"leaseID,omitempty"`
	// LeaseDuration is the lease's TTL as last granted.
	// +optional
	LeaseDuration *metav1.Duration `json:"leaseDuration,omitempty"`
	// Renewable says whether the server allows renewing the lease.
	// +optional
	Renewable bool `json:"renewable,omitempty"`
	// IssueTime is when the lease was issued.
	// +optional
	IssueTime *metav1.Time `json:"issueTime,omitempty"`
	// NextRenewalTime is when the lease will be renewed next.
	// +optional
	NextRenewalTime *metav1.Time `json:"nextRenewalTime,omitempty"`
}

// ExternalSecretStatus is the observed state of an ExternalSecret.
type ExternalSecretStatus struct {
	// Conditions hold Ready: whether the Secret holds the current remote values.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// RefreshTime is when the last sync that changed something succeeded: the
	// first sync, a sync after a change of the ExternalSecret (or force-sync),
	// one that wrote new values or repaired the Secret, or the first success
	// after a failure. Under the operator's default --refresh-status=OnChange a
	// periodic refresh that finds the values unchanged writes no status, so
	// RefreshTime does not advance; with --refresh-status=Always every
	// successful sync sets it. The values may come from a read of the same path
	// made for another ExternalSecret shortly before (at most its refresh
	// interval and --max-read-age earlier), not necessarily at this time.
	// +optional
	RefreshTime metav1.Time `json:"refreshTime,omitempty"`

	// SyncedResourceVersion identifies the version of the ExternalSecret (its
	// generation and a hash of its labels and annotations) last synced.
	// +optional
	SyncedResourceVersion string `json:"syncedResourceVersion,omitempty"`

	// Binding names the Secret this ExternalSecret writes.
	// +optional
	Binding corev1.LocalObjectReference `json:"binding,omitempty"`

	// Generated describes, per dataFrom generator entry, when its values were
	// generated and the lease behind a dynamic secret; never a value.
	// +listType=map
	// +listMapKey=index
	// +optional
	Generated []GeneratedStatus `json:"generated,omitempty"`
}

// ExternalSecret reads values from OpenBao or Vault through a store and keeps a
// Kubernetes Secret in sync with them.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories={baosync},shortName=bes
// +kubebuilder:printcolumn:name="Store",type=string,JSONPath=`.spec.secretStoreRef.name`
// +kubebuilder:printcolumn:name="Refresh Interval",type=string,JSONPath=`.spec.refreshInterval`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Sync",type=date,JSONPath=`.status.refreshTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ExternalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ExternalSecretSpec   `json:"spec"`
	Status ExternalSecretStatus `json:"status,omitempty"`
}

// TargetName is the name of the Secret this ExternalSecret writes.
func (e *ExternalSecret) TargetName() string {
	if e.Spec.Target.Name != "" {
		return e.Spec.Target.Name
	}
	return e.Name
}

// EffectiveRefreshInterval is how often the ExternalSecret is refreshed: its
// refreshInterval, or 1h when it is not set (the CRD has no default, so that
// GitOps tools see no diff); 0 means never on a timer.
func (e *ExternalSecret) EffectiveRefreshInterval() time.Duration {
	if e.Spec.RefreshInterval == nil {
		return time.Hour
	}
	return e.Spec.RefreshInterval.Duration
}

// StoreRef is the store a data entry names in sourceRef.storeRef; nil for
// spec.secretStoreRef's.
func (d ExternalSecretData) StoreRef() *SecretStoreRef {
	if d.SourceRef == nil {
		return nil
	}
	return &d.SourceRef.StoreRef
}

// StoreRef is the store a dataFrom entry names in sourceRef.storeRef; nil
// for spec.secretStoreRef's (and for a generator's entry).
func (df ExternalSecretDataFromRemoteRef) StoreRef() *SecretStoreRef {
	if df.SourceRef == nil {
		return nil
	}
	return df.SourceRef.StoreRef
}

// Generated reports whether a dataFrom entry takes its values from a
// generator.
func (df ExternalSecretDataFromRemoteRef) Generated() bool {
	return df.SourceRef != nil && df.SourceRef.GeneratorRef != nil
}

// ExternalSecretList is a list of ExternalSecrets.
//
// +kubebuilder:object:root=true
type ExternalSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExternalSecret `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ExternalSecret{}, &ExternalSecretList{})
}

// SyncWindowKind says whether windows allow or deny refreshes.
// +kubebuilder:validation:Enum=allow;deny
type SyncWindowKind string

// Sync window kinds.
const (
	// SyncWindowAllow permits refreshes only while a window is open.
	SyncWindowAllow SyncWindowKind = "allow"
	// SyncWindowDeny blocks refreshes while a window is open.
	SyncWindowDeny SyncWindowKind = "deny"
)

// SyncWindows is a list of windows and whether they allow or deny.
type SyncWindows struct {
	// Kind applies to every window: allow or deny.
	Kind SyncWindowKind `json:"kind"`
	// Windows are schedule and duration pairs.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Windows []SyncWindow `json:"windows"`
}

// SyncWindow opens at each time of Schedule for Duration.
type SyncWindow struct {
	// Schedule is a 5-field cron expression in UTC ("0 22 * * 1-5"), or a
	// shorthand such as @daily or @every 1h; it marks when the window opens.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|@every [^\s]+.*|[^\s]+( [^\s]+){4})$`
	Schedule string `json:"schedule"`
	// Duration is how long the window stays open, e.g. "8h".
	// +kubebuilder:validation:Type=string
	Duration metav1.Duration `json:"duration"`
}
