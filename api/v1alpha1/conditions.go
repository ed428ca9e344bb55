package v1alpha1

// ConditionReady is the one condition every baosync kind carries. True means the
// object did its job on its last reconcile; False carries a Reason from below.
const ConditionReady = "Ready"

// ConditionInstantUpdates is a store's second condition when it sets
// spec.instantUpdates: True while its server's audit stream is connected to
// the operator's change feed (ReasonStreamConnected), False otherwise
// (ReasonStreamNotConnected), when refreshes fall back to the interval.
const ConditionInstantUpdates = "InstantUpdates"

// Reasons of the InstantUpdates condition.
const (
	// ReasonStreamConnected: the server's audit stream is connected.
	ReasonStreamConnected = "StreamConnected"
	// ReasonStreamNotConnected: no audit stream with the store's token is
	// connected (or the operator runs without --change-feed-listen).
	ReasonStreamNotConnected = "StreamNotConnected"
	// ReasonRemoteChanged is the event of a refresh that a change reported by
	// the audit stream or the refresh endpoint triggered.
	ReasonRemoteChanged = "RemoteChanged"
)

// Reasons of the Ready condition, each a cause a user can act on. Events carry
// the same reasons. docs/troubleshooting.md lists the fix for each.
const (
	// ReasonSecretSynced: the target Secret holds the current remote values.
	ReasonSecretSynced = "SecretSynced"
	// ReasonStoreValid: the store's configuration is valid and it can log in.
	ReasonStoreValid = "StoreValid"
	// ReasonStoreNotFound: the referenced store does not exist; create it or fix
	// spec.secretStoreRef.
	ReasonStoreNotFound = "StoreNotFound"
	// ReasonStoreNotReady: the store exists but cannot log in; see the store's own
	// Ready condition.
	ReasonStoreNotReady = "StoreNotReady"
	// ReasonStoreNotAllowed: the store may not be used from this namespace (a
	// ClusterSecretStore's conditions exclude it, or a reference crosses namespaces).
	ReasonStoreNotAllowed = "StoreNotAllowed"
	// ReasonAuthFailed: login was refused or its credentials are missing; fix the
	// auth Secret, ServiceAccount or the role on the server.
	ReasonAuthFailed = "AuthFailed"
	// ReasonPermissionDenied: the token is valid but its policy does not allow the
	// read; grant the policy on the server.
	ReasonPermissionDenied = "PermissionDenied"
	// ReasonProviderUnavailable: the server could not be reached or answered with an
	// error; baosync retries with back-off.
	ReasonProviderUnavailable = "ProviderUnavailable"
	// ReasonKubernetesAPIError: the Kubernetes API server refused or failed a
	// request baosync made for the object (a Secret write forbidden by RBAC,
	// denied by an admission webhook or over a quota, or an API server error);
	// the message names the request and the API server's answer. Fix the
	// permission, policy or quota; baosync retries with back-off.
	ReasonKubernetesAPIError = "KubernetesAPIError"
	// ReasonRemoteNotFound: no secret exists at the remote key (or version); write it
	// on the server or fix remoteRef.key.
	ReasonRemoteNotFound = "RemoteNotFound"
	// ReasonPropertyNotFound: the remote secret exists but has no such property; fix
	// remoteRef.property.
	ReasonPropertyNotFound = "PropertyNotFound"
	// ReasonDecodingFailed: a value could not be decoded with its decodingStrategy.
	ReasonDecodingFailed = "DecodingFailed"
	// ReasonTemplateError: target.template could not be parsed or rendered.
	ReasonTemplateError = "TemplateError"
	// ReasonInvalidSpec: the spec is inconsistent in a way admission cannot check.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonTargetConflict: the target Secret exists and belongs to something else;
	// delete it (baosync creates its own at once), rename the target, use
	// creationPolicy Merge, or take over one ESO created (annotation
	// baosync.io/take-over).
	ReasonTargetConflict = "TargetConflict"
	// ReasonTargetMissing: creationPolicy Merge or None needs an existing Secret.
	ReasonTargetMissing = "TargetMissing"
	// ReasonSecretTooLarge: the rendered Secret exceeds Kubernetes' 1 MiB limit.
	ReasonSecretTooLarge = "SecretTooLarge"
	// ReasonSecretDeleted: the remote secret is gone and deletionPolicy Delete
	// removed the target Secret.
	ReasonSecretDeleted = "SecretDeleted"
	// ReasonInvalidStoreConfig: the store's configuration cannot be used (missing
	// auth Secret key, invalid CA bundle, …).
	ReasonInvalidStoreConfig = "InvalidStoreConfig"
	// ReasonPushed: the remote secrets hold the Secret's values.
	ReasonPushed = "Pushed"
	// ReasonRemoteNotOwned: a remote secret exists that baosync did not create;
	// baosync will not overwrite it. Push elsewhere or delete it on the server.
	ReasonRemoteNotOwned = "RemoteNotOwned"
	// ReasonSourceNotFound: the Secret to push (or one of its keys) is missing.
	ReasonSourceNotFound = "SourceNotFound"
	// ReasonNamespacesProvisioned: every selected namespace has its ExternalSecret.
	ReasonNamespacesProvisioned = "NamespacesProvisioned"
	// ReasonNamespacesFailed: some selected namespaces could not get their
	// ExternalSecret; status.failedNamespaces says why.
	ReasonNamespacesFailed = "NamespacesFailed"
	// ReasonRolloutRestartFailed: a workload in rolloutRestartTargets could not be
	// restarted (an event, not a condition); check its kind and name.
	ReasonRolloutRestartFailed = "RolloutRestartFailed"
	// ReasonFieldsNotServed is the reason of the Warning event on an ESO object
	// that is served with fields dropped (each provably changing nothing, or
	// changing what its message says).
	ReasonFieldsNotServed = "FieldsNotServed"
	// ReasonAdoptedFromESO is the reason of the event that records a remote
	// secret taken over from External Secrets Operator.
	ReasonAdoptedFromESO = "AdoptedFromESO"
	// ReasonTakenOver is the reason of the event that records a Secret taken over
	// from External Secrets Operator.
	ReasonTakenOver = "TakenOver"
	// ReasonRolloutRestarted: a workload of rolloutRestartTargets was restarted
	// because the Secret's data changed (an event).
	ReasonRolloutRestarted = "RolloutRestarted"
	// ReasonThrottled: the namespace used up its share of a shared store's request
	// budget; the object retries after a short delay. Lengthen refreshInterval or
	// read fewer paths.
	ReasonThrottled = "Throttled"
	// ReasonGeneratorNotFound: the generator a generatorRef names does not exist
	// (a namespaced generator is looked up in the object's own namespace only);
	// create it or fix the generatorRef.
	ReasonGeneratorNotFound = "GeneratorNotFound"
	// ReasonGeneratorFailed: the generator could not produce values (an invalid
	// password spec, a refused dynamic secret request); the message says why.
	ReasonGeneratorFailed = "GeneratorFailed"
)
