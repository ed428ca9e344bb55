// Command baosync is the operator: it keeps Kubernetes Secrets in sync with
// secrets held in OpenBao or HashiCorp Vault.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/baosync/baosync/api/eso"
	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/clusterexternalsecret"
	"github.com/baosync/baosync/controllers/externalsecret"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/controllers/pushsecret"
	"github.com/baosync/baosync/controllers/render"
	"github.com/baosync/baosync/controllers/secretstore"
	"github.com/baosync/baosync/providers/vault"
)

// Set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

// options are the operator's flags.
type options struct {
	metricsAddr, probeAddr string
	leaderElect            bool
	leaderNamespace        string
	pprofAddr              string
	class, namespace       string
	workers                int
	qps                    float64
	burst                  int
	vaultTimeout           time.Duration
	vaultRate              float64
	vaultBurst             int
	maxReadAge             time.Duration
	refreshStatus          string
	showVersion            bool
	zap                    zap.Options
}

func (o *options) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (0 disables it).")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader, so that only one of several replicas reconciles.")
	fs.StringVar(&o.leaderNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the pod's own namespace).")
	fs.IntVar(&o.workers, "concurrent", 20, "Reconcile workers per kind (they mostly wait on the network).")
	fs.Float64Var(&o.qps, "kube-api-qps", 500, "Queries per second to the Kubernetes API server (its own priority and fairness still applies).")
	fs.IntVar(&o.burst, "kube-api-burst", 1000, "Burst of queries to the Kubernetes API server.")
	fs.DurationVar(&o.vaultTimeout, "vault-request-timeout", 10*time.Second, "Timeout of each request to OpenBao/Vault.")
	fs.Float64Var(&o.vaultRate, "vault-rate-limit", 200, "Requests per second to OpenBao/Vault per store (0: unlimited).")
	fs.IntVar(&o.vaultBurst, "vault-rate-burst", 400, "Burst of requests to OpenBao/Vault per store.")
	fs.DurationVar(&o.maxReadAge, "max-read-age", time.Hour, "How long a value read for one ExternalSecret may serve others on the same path (capped by their refresh interval).")
	fs.StringVar(&o.refreshStatus, "refresh-status", "OnChange", "Whether an unchanged periodic refresh rewrites status.refreshTime: Always (one status write per object per interval) or OnChange.")
	fs.StringVar(&o.class, "controller-class", "", "Serve only stores whose spec.controller names this class (empty: stores that name none).")
	fs.StringVar(&o.namespace, "namespace", "", "Serve only this namespace: SecretStores and ExternalSecrets there, no ClusterSecretStore (empty: the whole cluster).")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "", "Address of the pprof endpoint (empty: off).")
	fs.BoolVar(&o.showVersion, "version", false, "Print the version and exit.")
	o.zap.BindFlags(fs)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "convert" {
		os.Exit(eso.Command(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "render" {
		os.Exit(render.Command(os.Args[2:], vault.New(), os.Stdout, os.Stderr))
	}
	var o options
	o.bindFlags(flag.CommandLine)
	flag.Parse()
	if o.refreshStatus != "Always" && o.refreshStatus != "OnChange" {
		fmt.Fprintf(os.Stderr, "--refresh-status must be Always or OnChange, not %q\n", o.refreshStatus)
		os.Exit(2)
	}
	if o.showVersion {
		fmt.Printf("baosync %s (commit %s)\n", version, commit)
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	if err := run(ctrl.SetupSignalHandler(), &o); err != nil {
		ctrl.Log.Error(err, "Operator stopped")
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options) error {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "baosync.baosync.io",
		LeaderElectionNamespace: o.leaderNamespace,
		Cache:                   externalsecret.CacheOptions(o.namespace),
		PprofBindAddress:        o.pprofAddr,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	m := metrics.New(nil)
	provider := vault.New(vault.WithRequestTimeout(o.vaultTimeout), vault.WithRateLimit(o.vaultRate, o.vaultBurst),
		vault.WithMaxReadAge(o.maxReadAge), vault.WithRequestObserver(m.ObserveProviderRequest))
	deps := secretstore.Deps{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Metrics: m, Clock: clock.RealClock{}, ControllerClass: o.class}
	if err := secretstore.NewSecretStoreReconciler(deps).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up SecretStore reconciler: %w", err)
	}
	if o.namespace == "" { // cluster-scoped kinds only in a cluster-wide install
		if err := secretstore.NewClusterSecretStoreReconciler(deps).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("set up ClusterSecretStore reconciler: %w", err)
		}
		ces := &clusterexternalsecret.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("baosync")}
		if err := ces.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("set up ClusterExternalSecret reconciler: %w", err)
		}
	}
	es := &externalsecret.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Metrics: m, Clock: clock.RealClock{}, MaxConcurrentReconciles: o.workers,
		RefreshStatusAlways: o.refreshStatus == "Always", ControllerClass: o.class, Namespace: o.namespace}
	if err := es.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("set up ExternalSecret reconciler: %w", err)
	}
	push := &pushsecret.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), ControllerClass: o.class}
	if err := push.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up PushSecret reconciler: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("add ready check: %w", err)
	}
	ctrl.Log.Info("Starting baosync", "version", version, "commit", commit)
	return mgr.Start(ctx)
}

// newScheme registers the core types and baosync's.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}
