// Command baosync is the operator: it keeps Kubernetes Secrets in sync with
// secrets held in OpenBao or HashiCorp Vault.
package main

import (
	// OpenBao behind a public CA verifies against Mozilla's roots, embedded here.
	// The image ships no CA bundle: without system roots, TLS to a Vault or
	"context"
	"flag"
	"fmt"
	"os"

	_ "golang.org/x/crypto/x509roots/fallback"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/commands/convert"
	"github.com/baosync/baosync/commands/render"
	"github.com/baosync/baosync/controllers/clusterexternalsecret"
	"github.com/baosync/baosync/controllers/clusterpushsecret"
	"github.com/baosync/baosync/controllers/esocompat"
	"github.com/baosync/baosync/controllers/externalsecret"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/controllers/pushsecret"
	"github.com/baosync/baosync/controllers/secretstore"
	"github.com/baosync/baosync/internal/memlimit"
	"github.com/baosync/baosync/internal/operatorkey"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/internal/syncbudget"
	"github.com/baosync/baosync/internal/tokencustody"
	"github.com/baosync/baosync/providers"
	"github.com/baosync/baosync/providers/vault"
)

// Set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "convert" {
		os.Exit(convert.Command(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
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
	soft, err := memlimit.Apply(o.goMemLimitRatio, memlimit.CgroupFiles)
	if err != nil {
		ctrl.Log.Error(err, "Could not set the soft memory limit (--gomemlimit-ratio)")
		os.Exit(2)
	}
	if soft.Limit > 0 {
		ctrl.Log.Info("Soft memory limit set", "bytes", soft.Limit, "from", soft.From)
	} else {
		ctrl.Log.Info("Soft memory limit not set from the container", "because", soft.From)
	}
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
		Metrics:                 o.metricsOptions(),
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "baosync.baosync.io",
		LeaderElectionNamespace: o.leaderNamespace,
		// The process exits as soon as the manager stops, so handing the lease
		// back at once is safe and spares a rolling upgrade the lease's 15 s expiry.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         externalsecret.CacheOptions(o.namespace),
		PprofBindAddress:              o.pprofAddr,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	m := metrics.New(nil)
	provider, opKey, err := newProvider(mgr, o, m)
	if err != nil {
		return err
	}
	served := scope.Served{Class: o.class, Namespace: o.namespace} // what this operator serves, for every reconciler
	changes, feed, err := instantUpdates(mgr, o)
	if err != nil {
		return err
	}
	deps := secretstore.Deps{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Metrics: m, Clock: clock.RealClock{}, Scope: served, Feed: feed}
	if err := setupStores(mgr, deps, served); err != nil {
		return err
	}
	es := externalSecrets(mgr, o, provider, m, served, opKey)
	es.Changes = changes
	if err := es.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("set up ExternalSecret reconciler: %w", err)
	}
	push := &pushsecret.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Scope: served}
	if err := push.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("set up PushSecret reconciler: %w", err)
	}
	if err := setupESOCompat(mgr, o, served); err != nil {
		return err
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

// setupStores sets up the store reconcilers and, in a cluster-wide install,
// the ClusterExternalSecret and ClusterPushSecret reconcilers.
func setupStores(mgr ctrl.Manager, deps secretstore.Deps, served scope.Served) error {
	if err := secretstore.NewSecretStoreReconciler(deps).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up SecretStore reconciler: %w", err)
	}
	if !served.ClusterWide() { // cluster-scoped kinds only in a cluster-wide install
		return nil
	}
	if err := secretstore.NewClusterSecretStoreReconciler(deps).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ClusterSecretStore reconciler: %w", err)
	}
	if err := clusterexternalsecret.New(mgr.GetClient(), mgr.GetEventRecorder("baosync")).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ClusterExternalSecret reconciler: %w", err)
	}
	if err := clusterpushsecret.New(mgr.GetClient(), mgr.GetEventRecorder("baosync")).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ClusterPushSecret reconciler: %w", err)
	}
	return nil
}

// externalSecrets is the ExternalSecret reconciler, as the flags set it.
func externalSecrets(mgr ctrl.Manager, o *options, provider providers.Provider, m *metrics.Metrics, served scope.Served,
	opKey *operatorkey.Key) *externalsecret.Reconciler {
	return &externalsecret.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Metrics: m, Clock: clock.RealClock{}, MaxConcurrentReconciles: o.workers,
		RefreshStatusAlways: o.refreshStatus == "Always", Scope: served,
		LeaseKey: opKey, SyncBudget: syncbudget.New(o.nsSyncRate, o.nsSyncBurst),
		MinGeneratorRotation: o.minGenRotation}
}

// newProvider builds the OpenBao/Vault provider, run by the manager (its read
// cache sweeper and the keeper of lease-owning tokens), with the operator's
// own key: the key and the tokens kept for leases live in the operator's
// namespace, read uncached, since the manager caches no Secret there.
func newProvider(mgr ctrl.Manager, o *options, m *metrics.Metrics) (*vault.Provider, *operatorkey.Key, error) {
	keyNS, keyName, err := o.operatorKeyRef()
	if err != nil {
		return nil, nil, err
	}
	opKey := operatorkey.New(mgr.GetAPIReader(), mgr.GetClient(), keyNS, keyName)
	custody := tokencustody.New(mgr.GetAPIReader(), mgr.GetClient(), keyNS, opKey)
	tenants := metrics.NewTenantRequests(nil, o.tenantMetricsMax)
	provider := vault.New(append(o.vaultOptions(m.ObserveProviderRequest, tenants.Observe), vault.WithTokenCustody(custody))...)
	if err := mgr.Add(provider); err != nil {
		return nil, nil, fmt.Errorf("add the provider's sweeper and token keeper: %w", err)
	}
	return provider, opKey, nil
}

// setupESOCompat serves ESO's own objects when --eso-compat is set.
func setupESOCompat(mgr ctrl.Manager, o *options, served scope.Served) error {
	if !o.esoCompat {
		return nil
	}
	err := esocompat.Setup(mgr, esocompat.Options{Recorder: mgr.GetEventRecorder("baosync"), Scope: served,
		Class: o.esoClass, Metrics: esocompat.NewMetrics(nil), Workers: o.workers})
	if err != nil {
		return fmt.Errorf("set up ESO-compatible mode: %w", err)
	}
	return nil
}

// newScheme registers the core types and baosync's.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}
