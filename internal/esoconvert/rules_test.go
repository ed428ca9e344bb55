package esoconvert

// v29Refusals are ESO v2 fields: served, or dropped with a warning where the
// loss changes nothing.
var v29Refusals = []convertCase{{
	name: "keeps syncWindows: a change freeze",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: app}
spec:
  secretStoreRef: {name: vault}
  syncWindows: {kind: deny, windows: [{schedule: "0 22 * * *", duration: 2h}]}
  data: [{secretKey: k, remoteRef: {key: app, property: k}}]`,
	out: []string{`syncWindows: {kind: deny, windows: [{schedule: "0 22 * * *", duration: 2h}]}`},
}, {
	name: "keeps dataTo and a data entry's conversionStrategy; drops the metadata ESO's Vault provider ignores",
	in: `apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: push}
spec:
  secretStoreRefs: [{name: vault}]
  selector: {secret: {name: src}}
  data: [{conversionStrategy: ReverseUnicode, match: {secretKey: k, remoteRef: {remoteKey: app, property: k}}}]
  dataTo: [{storeRef: {name: vault}, match: {regexp: "^DB_"}, remoteKey: db, metadata: {x: y}}]`,
	out:      []string{`dataTo: [{storeRef: {name: vault}, match: {regexp: "^DB_"}, remoteKey: db}]`, "conversionStrategy: ReverseUnicode"},
	warnings: []string{"spec.dataTo[0].metadata: ESO's Vault and OpenBao providers push no per-entry metadata either"},
}, {
	name: "converts a ClusterPushSecret, its PushSecret spec checked as a PushSecret's",
	in: `apiVersion: external-secrets.io/v1alpha1
kind: ClusterPushSecret
metadata: {name: everywhere}
spec:
  pushSecretName: push
  pushSecretMetadata: {labels: {app: api}}
  namespaceSelectors: [{matchLabels: {team: a}}]
  refreshTime: 1m
  pushSecretSpec:
    secretStoreRefs: [{name: vault}]
    selector: {secret: {name: src}}
    data: [{match: {secretKey: k, remoteRef: {remoteKey: app, property: k}}}]`,
	out: []string{"apiVersion: baosync.io/v1alpha1", "kind: ClusterPushSecret", "pushSecretName: push", "secretStoreRefs: [{name: vault}]"},
}, {
	name: "refuses a ClusterPushSecret pushing a generator baosync lacks",
	in: `apiVersion: external-secrets.io/v1alpha1
kind: ClusterPushSecret
metadata: {name: everywhere}
spec:
  namespaceSelectors: [{matchLabels: {team: a}}]
  pushSecretSpec:
    secretStoreRefs: [{name: vault}]
    selector: {generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: Fake, name: f}}
    data: [{match: {secretKey: k, remoteRef: {remoteKey: app, property: k}}}]`,
	warnings: []string{"spec.pushSecretSpec.selector.generatorRef.kind: baosync has no Fake generator"}, failed: 1,
}}

// referentCases are ESO's referent authentication: a ClusterSecretStore
// reference without a namespace.
var referentCases = []convertCase{{
	name: "keeps a ClusterSecretStore ServiceAccount without a namespace: each namespace logs in as itself",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: shared}
spec:
  provider:
    vault:
      server: https://bao:8200
      path: secret
      auth: {kubernetes: {mountPath: kubernetes, role: tenants, serviceAccountRef: {name: eso-reader}}}`,
	out:    []string{"serviceAccountRef: {name: eso-reader}"},
	notOut: []string{"namespace:"},
}, {
	name: "refuses a ClusterSecretStore token Secret without a namespace",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: shared}
spec: {provider: {vault: {server: "https://b", auth: {tokenSecretRef: {name: t, key: token}}}}}`,
	warnings: []string{"spec.provider.vault.auth.tokenSecretRef.namespace: a ClusterSecretStore Secret reference without a namespace"}, failed: 1,
}, {
	name: "refuses a ClusterSecretStore AppRole secret without a namespace, pointing to tenancy",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: shared}
spec: {provider: {vault: {server: "https://b", auth: {appRole: {roleId: r, secretRef: {name: s, key: id}}}}}}`,
	warnings: []string{"spec.tenancy (docs/multi-tenancy.md)"}, failed: 1,
}, {
	name: "keeps a SecretStore Secret without a namespace: its own",
	in: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: own}
spec: {provider: {vault: {server: "https://b", auth: {tokenSecretRef: {name: t, key: token}}}}}`,
	out: []string{"tokenSecretRef: {name: t, key: token}"},
}}

var vaultRoleCases = []convertCase{{
	name: "renames cert auth's vaultRole in a VaultDynamicSecret's provider",
	in: `apiVersion: generators.external-secrets.io/v1alpha1
kind: VaultDynamicSecret
metadata: {name: db}
spec:
  path: database/creds/app
  provider:
    server: https://v
    auth:
      cert: {vaultRole: web, clientCert: {name: c, key: tls.crt}, secretRef: {name: c, key: tls.key}}`,
	out: []string{"cert: {role: web,"},
}, {
	name: "refuses AWS IAM and GCP auth, which baosync does not have",
	in: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: aws}
spec:
  provider: {vault: {server: "https://v", auth: {iam: {region: eu-west-1, vaultRole: r}}}}
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: gcp}
spec:
  provider: {vault: {server: "https://v", auth: {gcp: {role: r}}}}`,
	warnings: []string{"spec.provider.vault.auth.iam: baosync has no AWS IAM auth", "spec.provider.vault.auth.gcp: baosync has no GCP auth"}, failed: 2,
}}

var getParameterCases = []convertCase{{
	name: "keeps getParameters: the query of a VaultDynamicSecret's GET",
	in: `apiVersion: generators.external-secrets.io/v1alpha1
kind: VaultDynamicSecret
metadata: {name: db}
spec:
  path: database/creds/app
  getParameters: {ttl: ["1h"]}
  provider: {server: "https://b", auth: {tokenSecretRef: {name: t, key: token}}}`,
	out: []string{`getParameters: {ttl: ["1h"]}`},
}}

var renameCases = []convertCase{{
	name: "maps ESO's OpenBao provider, cert auth's vaultRole and a duration refreshInterval",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: bao}
spec:
  refreshInterval: 5m # re-check
  provider:
    openBao:
      server: https://bao:8200
      auth: {cert: {vaultRole: web, clientCert: {name: c, key: tls.crt, namespace: ops}, secretRef: {name: c, key: tls.key, namespace: ops}}}`,
	out:    []string{"refreshInterval: 300 # re-check", "    vault:\n", "role: web"},
	notOut: []string{"openBao", "vaultRole", "5m"},
}, {
	name: "keeps a store refreshInterval in seconds as it is",
	in: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: s}
spec: {refreshInterval: 60, provider: {vault: {server: "https://b", auth: {tokenSecretRef: {name: t, key: token}}}}}`,
	out: []string{"refreshInterval: 60,"},
}, {
	name: "moves the singular namespaceSelector of a ClusterExternalSecret into the list",
	in: `apiVersion: external-secrets.io/v1beta1
kind: ClusterExternalSecret
metadata: {name: shared}
spec:
  namespaceSelector:
    matchLabels: {team: a}
  externalSecretSpec: {secretStoreRef: {name: s, kind: ClusterSecretStore}, data: [{secretKey: k, remoteRef: {key: a}}]}`,
	out:    []string{"namespaceSelectors:\n    - matchLabels: {team: a}"},
	notOut: []string{"namespaceSelector:"},
}, {
	name: "appends the singular namespaceSelector to an existing list",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: shared}
spec:
  namespaceSelectors: [{matchLabels: {team: b}}]
  namespaceSelector: {matchLabels: {team: a}}
  externalSecretSpec: {secretStoreRef: {name: s, kind: ClusterSecretStore}, data: [{secretKey: k, remoteRef: {key: a}}]}`,
	out:    []string{"{matchLabels: {team: b}}", "{matchLabels: {team: a}}"},
	notOut: []string{"namespaceSelector:"},
}, {
	name: "keeps comments, key order and the user's spelling of values",
	in: `# the database credentials
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: db # owned by payments
spec:
  refreshInterval: 1h
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: "app/db"}}]`,
	out: []string{"# the database credentials\napiVersion: baosync.io/v1alpha1\nkind: ExternalSecret\nmetadata:\n  name: db # owned by payments\nspec:\n  refreshInterval: 1h\n", `key: "app/db"`},
}}

var defaultCases = []convertCase{{
	name: "drops the defaults ESO's CRDs write without a warning",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  target: {creationPolicy: Owner, deletionPolicy: Retain, template: {engineVersion: v2, mergePolicy: Replace}}
  data:
  - secretKey: k
    remoteRef: {key: a, conversionStrategy: Default, decodingStrategy: None, metadataPolicy: None, nullBytePolicy: Ignore}
  dataFrom:
  - extract: {key: b, conversionStrategy: Default, decodingStrategy: None, metadataPolicy: None, nullBytePolicy: Ignore}`,
	out: []string{"secretKey: k", "extract: {key: b", "nullBytePolicy: Ignore", "conversionStrategy: Default"},
}, {
	name: "keeps conversionStrategy None on PushSecret entries, without a warning",
	in: `apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: p}
spec:
  secretStoreRefs: [{name: vault, kind: SecretStore}]
  selector: {secret: {name: src}}
  data: [{conversionStrategy: None, match: {secretKey: pw, remoteRef: {remoteKey: app/db, property: password}}}]`,
	out: []string{"remoteKey: app/db", "conversionStrategy: None"},
}}

var unsupportedCases = []convertCase{{
	name: "warns about template functions baosync lacks",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  target:
    template:
      data: {cfg: "{{ .a | toYaml }}", other: "{{ .a | getSecretKey }}"}
      templateFrom: [{literal: "{{ nope .a }}"}]
  data: [{secretKey: a, remoteRef: {key: a}}]`,
	warnings: []string{
		"field spec.target.template.data.other: uses getSecretKey, which baosync's templates lack",
		"field spec.target.template.templateFrom[0].literal: uses nope",
	},
	out: []string{"getSecretKey"},
}, {
	name: "warns with the path and the reason for every field baosync does without",
	in: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: s, namespace: app}
spec:
  retrySettings: {maxRetries: 3}
  provider: {vault: {server: "https://b", checkAndSet: {required: true}, auth: {tokenSecretRef: {name: t, key: token}}}}`,
	warnings: []string{
		"SecretStore app/s: field spec.retrySettings: baosync retries failed calls with its own back-off; dropped",
	},
	out:    []string{"checkAndSet: {required: true}"},
	notOut: []string{"retrySettings"},
}, {
	name: "keeps conversion strategies and nullBytePolicy Fail on data, extract and find",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: a, conversionStrategy: Unicode, nullBytePolicy: Fail}}]
  dataFrom:
  - extract: {key: b, conversionStrategy: Unicode, nullBytePolicy: Fail}
  - find: {path: c, conversionStrategy: Unicode, nullBytePolicy: Fail}`,
	out: []string{"remoteRef: {key: a, conversionStrategy: Unicode, nullBytePolicy: Fail}", "extract: {key: b, conversionStrategy: Unicode, nullBytePolicy: Fail}",
		"find: {path: c, conversionStrategy: Unicode, nullBytePolicy: Fail}"},
}, {
	name: "refuses what ESO v2.9 does that baosync does not: rewrite merge, target.manifest, a PushSecret template",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  target: {manifest: {apiVersion: v1, kind: ConfigMap}}
  data: [{secretKey: k, remoteRef: {key: a}}]
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: m}
spec:
  secretStoreRef: {name: s}
  dataFrom: [{extract: {key: a}, rewrite: [{merge: {strategy: JSON, into: all}}]}]
---
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: p}
spec:
  secretStoreRefs: [{name: s}]
  selector: {secret: {name: src}}
  template: {data: {k: "{{ .k }}"}}
  data: [{match: {secretKey: k, remoteRef: {remoteKey: a, property: k}}}]`,
	warnings: []string{"spec.target.manifest: baosync writes Secrets only", "spec.dataFrom[0].rewrite[0].merge: baosync has no rewrite merge",
		"spec.template: baosync does not template a PushSecret's Secret"}, failed: 3,
}, {
	name: "drops generatorRef on a data entry with a warning: ESO does not implement it there either",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: a}, sourceRef: {generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: Password, name: pw}}}]`,
	warnings: []string{"spec.data[0].sourceRef.generatorRef: ESO does not implement generatorRef on a data entry either"},
	out:      []string{"secretKey: k"},
}, {
	name: "refuses template finalizers: the Secret's deletion would hang until another controller removed them",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  target: {template: {metadata: {finalizers: [x]}}}
  data: [{secretKey: k, remoteRef: {key: a}}]`,
	warnings: []string{"field spec.target.template.metadata.finalizers: baosync puts no finalizers on a Secret"}, failed: 1,
}, {
	name: "maps LDAP auth 1:1 and refuses it without the password's secretRef",
	in: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: ldap, namespace: app}
spec: {provider: {vault: {server: "https://b", auth: {ldap: {path: corp-ldap, username: u, secretRef: {name: p, key: pw}}}}}}
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: nopw, namespace: app}
spec: {provider: {vault: {server: "https://b", auth: {ldap: {username: u}}}}}`,
	warnings: []string{
		"SecretStore app/nopw: field spec.provider.vault.auth.ldap.secretRef: auth.ldap needs secretRef",
	},
	failed: 1,
	out:    []string{"auth: {ldap: {path: corp-ldap, username: u, secretRef: {name: p, key: pw}}}"},
	notOut: []string{"name: nopw"},
}, {
	name: "warns an ExternalSecret whose store of another provider was skipped",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: aws}
spec: {provider: {aws: {service: SecretsManager}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e, namespace: app}
spec: {secretStoreRef: {name: aws, kind: ClusterSecretStore}, data: [{secretKey: k, remoteRef: {key: a}}]}`,
	warnings: []string{"provider aws is not OpenBao/Vault; skipped", "refers to ClusterSecretStore aws, which was not converted"},
}, {
	name: "keeps creationPolicy CreateOrMerge (ESO v2.8)",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  target: {creationPolicy: CreateOrMerge}
  data: [{secretKey: k, remoteRef: {key: a}}]`,
	out: []string{"target: {creationPolicy: CreateOrMerge}"},
}, {
	name: "carries over entries reading from another store",
	in: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e}
spec:
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: a}, sourceRef: {storeRef: {name: other}}}]
  dataFrom: [{extract: {key: b}, sourceRef: {storeRef: {name: third, kind: ClusterSecretStore}}}]`,
	out: []string{"sourceRef: {storeRef: {name: other}}", "sourceRef: {storeRef: {name: third, kind: ClusterSecretStore}}"},
}, {
	name: "warns an ExternalSecret whose entry reads from a store of another provider",
	in: `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: aws}
spec: {provider: {aws: {service: SecretsManager}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: e, namespace: app}
spec:
  secretStoreRef: {name: s}
  data: [{secretKey: k, remoteRef: {key: a}, sourceRef: {storeRef: {name: aws, kind: ClusterSecretStore}}}]`,
	warnings: []string{"provider aws is not OpenBao/Vault; skipped",
		"field spec.data[0].sourceRef.storeRef: refers to ClusterSecretStore aws, which was not converted"},
}, {
	name: "refuses a PushSecret selecting Secrets or stores by label only, warns when a name is given too",
	in: `apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: p}
spec:
  secretStoreRefs: [{labelSelector: {matchLabels: {a: b}}}]
  selector: {secret: {selector: {matchLabels: {push: "yes"}}}}
  data: [{match: {secretKey: pw, remoteRef: {remoteKey: app/db}}}]
---
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: q}
spec:
  secretStoreRefs: [{name: vault, labelSelector: {matchLabels: {a: b}}}]
  selector: {secret: {name: src}}
  data: [{match: {secretKey: pw, remoteRef: {remoteKey: app/db}}}]`,
	warnings: []string{
		"PushSecret p: field spec.selector.secret.selector: baosync pushes one Secret named by selector.secret.name",
		"PushSecret p: field spec.secretStoreRefs[0].labelSelector: baosync pushes to stores named",
		"PushSecret q: field spec.secretStoreRefs[0].labelSelector: baosync pushes to the named store only",
	},
	failed: 2,
	out:    []string{"name: q", "name: vault}"},
	notOut: []string{"name: p", "labelSelector"},
}, {
	name:     "refuses a document that is not YAML and still writes the others",
	in:       "apiVersion: v1\nkind: ConfigMap\n---\n: : [\n",
	out:      []string{"kind: ConfigMap"},
	warnings: []string{"document: not valid YAML"},
	failed:   1,
}, {
	name:     "refuses an object that does not fit baosync's type",
	in:       "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e}\nspec: {data: 5}",
	warnings: []string{"ExternalSecret e: does not fit baosync's ExternalSecret"},
	failed:   1,
}}
