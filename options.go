package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/memlimit"
	"github.com/baosync/baosync/internal/operatorkey"
	"github.com/baosync/baosync/providers/vault"
)

// options are the operator's flags.
type options struct {
	metricsAddr, probeAddr string
	metricsSecure          bool
	metricsCertDir         string
	leaderElect            bool
	leaderNamespace        string
	pprofAddr              string
	class, namespace       string
	esoCompat              bool
	esoClass               string
	workers                int
	qps                    float64
	burst                  int
	vaultTimeout           time.Duration
	vaultRate              float64
	vaultBurst             int
	nsRate                 float64
	nsBurst                int
	nsInFlight             int
	tenantMetricsMax       int
	changeFeedListen       string
	changeFeedMaxConns     int
	refreshListen          string
	refreshCertDir         string
	nsSyncRate             float64
	nsSyncBurst            int
	minGenRotation         time.Duration
	maxReadAge             time.Duration
	refreshStatus          string
	operatorIdentity       bool
	operatorTokenFile      string
	operatorKeySecret      string
	showVersion            bool
	goMemLimitRatio        float64
	zap                    zap.Options
}

func (o *options) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "Address of the Prometheus metrics endpoint (0 disables it).")
	fs.BoolVar(&o.metricsSecure, "metrics-secure", true, "Serve metrics over HTTPS to clients that authenticate with a Kubernetes token allowed to get /metrics (TokenReview and SubjectAccessReview); false: plain HTTP to anyone who can connect.")
	fs.StringVar(&o.metricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the metrics endpoint, reloaded when they change (empty: a self-signed certificate).")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader, so that only one of several replicas reconciles.")
	fs.StringVar(&o.leaderNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the pod's own namespace).")
	fs.IntVar(&o.workers, "concurrent", 128, "Reconcile workers per kind. They mostly wait on the API server and OpenBao/Vault; fewer let a bulk create outrun the sync (at 10,000 ExternalSecrets, 20 workers finish 2.3x after the API server accepted them, 128 workers 1.2x: docs/performance.md).")
	fs.Float64Var(&o.qps, "kube-api-qps", 500, "Queries per second to the Kubernetes API server (its own priority and fairness still applies).")
	fs.IntVar(&o.burst, "kube-api-burst", 1000, "Burst of queries to the Kubernetes API server.")
	fs.DurationVar(&o.vaultTimeout, "vault-request-timeout", 10*time.Second, "Timeout of each request to OpenBao/Vault.")
	fs.Float64Var(&o.vaultRate, "vault-rate-limit", 200, "Requests per second to OpenBao/Vault per store (0: unlimited).")
	fs.IntVar(&o.vaultBurst, "vault-rate-burst", 400, "Burst of requests to OpenBao/Vault per store.")
	fs.Float64Var(&o.nsRate, "vault-namespace-rate-limit", 50, "Share of each store's requests one namespace may use, per second (0: no per-namespace share); past it, objects report Throttled and retry later.")
	fs.IntVar(&o.nsBurst, "vault-namespace-rate-burst", 100, "Burst of one namespace's share of a store's requests.")
	fs.IntVar(&o.nsInFlight, "vault-namespace-max-in-flight", 8, "Requests to OpenBao/Vault one namespace may have under way at once, across all stores (0: no bound), so that a slow server of one tenant cannot hold every worker.")
	fs.IntVar(&o.tenantMetricsMax, "tenant-metrics-max-namespaces", 500, "Namespaces that get series of their own in baosync_tenant_requests_total (requests of namespaces a shared ClusterSecretStore serves as themselves); the rest are counted together as namespace=\"_other\".")
	fs.StringVar(&o.changeFeedListen, "change-feed-listen", "", "TCP address (e.g. :8300) where OpenBao/Vault socket audit devices stream their entries, for instant updates of stores with spec.instantUpdates (docs/instant-updates.md); empty: off.")
	fs.IntVar(&o.changeFeedMaxConns, "change-feed-max-connections", 32, "Audit streams the change feed accepts at once; more are closed.")
	fs.StringVar(&o.refreshListen, "refresh-endpoint-listen", "", "HTTPS address (e.g. :8301) of the refresh endpoint: POST /refresh with a Kubernetes bearer token allowed the verb \"refresh\" on the ExternalSecret or store (docs/instant-updates.md); empty: off.")
	fs.StringVar(&o.refreshCertDir, "refresh-endpoint-cert-dir", "", "Directory with tls.crt and tls.key for the refresh endpoint, reloaded when they change; empty: a self-signed certificate made at start.")
	fs.Float64Var(&o.nsSyncRate, "namespace-sync-rate", 50, "Syncs per second one namespace's ExternalSecrets may start (0: no bound), whatever they read; past it a sync waits, with a Throttled event, so that one namespace cannot spend the Kubernetes API budget and workers every namespace shares. Lease renewals never wait.")
	fs.IntVar(&o.nsSyncBurst, "namespace-sync-burst", 500, "Burst of one namespace's syncs (a namespace's first sync of that many objects starts at once).")
	fs.DurationVar(&o.minGenRotation, "min-generator-rotation", desired.DefaultMinGeneratorRotation, "Shortest life of Password and UUID values under refreshPolicy Periodic: a shorter refreshInterval re-reads remote entries but makes new values at most this often.")
	fs.DurationVar(&o.maxReadAge, "max-read-age", vault.DefaultMaxReadAge, "How long a value read for one ExternalSecret may serve others on the same path (capped by their refresh interval, except for a first sync, which may use any read made since its object was created); a change reaches targets within their refresh interval plus this. 0: no sharing.")
	fs.StringVar(&o.refreshStatus, "refresh-status", "OnChange", "Whether an unchanged periodic refresh rewrites status.refreshTime: Always (one status write per object per interval) or OnChange.")
	fs.BoolVar(&o.operatorIdentity, "cluster-store-operator-identity", false, "Let ClusterSecretStores use Kubernetes auth with the operator's own projected token (--operator-vault-token-file); namespaced SecretStores never can.")
	fs.StringVar(&o.operatorTokenFile, "operator-vault-token-file", vault.DefaultOwnTokenFile, "The operator's own projected ServiceAccount token with a Vault audience (never the API server's), for --cluster-store-operator-identity.")
	fs.StringVar(&o.class, "controller-class", "", "Serve only stores whose spec.controller names this class (empty: stores that name none).")
	fs.BoolVar(&o.esoCompat, "eso-compat", false, "Also serve External Secrets Operator's own objects (external-secrets.io) whose provider is vault or openbao, unchanged; needs ESO's CRDs and the RBAC of config/components/eso-compat (docs/eso-compat.md).")
	fs.StringVar(&o.esoClass, "eso-controller-class", "", "With --eso-compat: serve ESO stores whose spec.controller names this class (empty: stores that name none), so that ESO and baosync can run side by side.")
	fs.StringVar(&o.namespace, "namespace", "", "Serve only this namespace: SecretStores and ExternalSecrets there, no ClusterSecretStore (empty: the whole cluster).")
	fs.StringVar(&o.operatorKeySecret, "operator-key-secret", "", "Secret (namespace/name) of the operator's own key, which seals the lease records in generator state Secrets and encrypts the login tokens kept for leases, created on first use (default: "+operatorkey.DefaultSecretName+" in the operator's namespace: --leader-election-namespace, else the pod's own, else baosync-system). Only the operator may read it.")
	fs.Float64Var(&o.goMemLimitRatio, "gomemlimit-ratio", memlimit.DefaultRatio, "Soft memory limit of Go's collector as a share of the container's memory limit (read from its cgroup), so that it collects harder before the kernel would kill the pod; GOMEMLIMIT, when set, wins; 0: off.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "", "Address of the pprof endpoint (empty: off).")
	fs.BoolVar(&o.showVersion, "version", false, "Print the version and exit.")
	// Failures are logged once, with their Reason (outcome.Retrying); a stack
	// trace says nothing more about a refused login, so none by default
	// (--zap-stacktrace-level=error brings them back).
	o.zap.StacktraceLevel = zapcore.PanicLevel
	o.zap.BindFlags(fs)
}

// metricsOptions serves metrics as kubebuilder projects do: HTTPS, each
// request's bearer token checked with a TokenReview and its right to get
// /metrics with a SubjectAccessReview. HTTP/2 is off (CVE-2023-44487).
func (o *options) metricsOptions() metricsserver.Options {
	if !o.metricsSecure {
		return metricsserver.Options{BindAddress: o.metricsAddr}
	}
	return metricsserver.Options{
		BindAddress:    o.metricsAddr,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		CertDir:        o.metricsCertDir,
		TLSOpts:        []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
}

// vaultOptions configures the OpenBao/Vault provider.
func (o *options) vaultOptions(observe func(operation, result string), tenants func(store, namespace, operation, result string)) []vault.Option {
	return []vault.Option{vault.WithRequestTimeout(o.vaultTimeout), vault.WithRateLimit(o.vaultRate, o.vaultBurst),
		vault.WithNamespaceRateLimit(o.nsRate, o.nsBurst), vault.WithNamespaceMaxInFlight(o.nsInFlight),
		vault.WithMaxReadAge(o.maxReadAge), vault.WithRequestObserver(observe), vault.WithTenantObserver(tenants),
		vault.WithOwnTokenFile(o.operatorTokenFile), vault.WithOperatorIdentity(o.operatorIdentity)}
}

// podNamespaceFile is where a pod finds its own namespace.
const podNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// operatorKeyRef is where the operator key lives: --operator-key-secret, or its default
// name in the operator's own namespace.
func (o *options) operatorKeyRef() (namespace, name string, err error) {
	if o.operatorKeySecret != "" {
		ns, n, ok := strings.Cut(o.operatorKeySecret, "/")
		if !ok || ns == "" || n == "" {
			return "", "", fmt.Errorf("--operator-key-secret=%q: want namespace/name", o.operatorKeySecret)
		}
		return ns, n, nil
	}
	ns := o.leaderNamespace
	if ns == "" {
		if b, err := os.ReadFile(podNamespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	if ns == "" {
		ns = "baosync-system"
	}
	return ns, operatorkey.DefaultSecretName, nil
}
