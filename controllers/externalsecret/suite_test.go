package externalsecret

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/baosync/baosync/controllers/clusterexternalsecret"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/controllers/pushsecret"
	"github.com/baosync/baosync/controllers/secretstore"
	"github.com/baosync/baosync/internal/changefeed"
	"github.com/baosync/baosync/internal/refreshapi"
	"github.com/baosync/baosync/providers/vault"
	"github.com/baosync/baosync/test/testenv"
)

// The suite's shared state: one control plane, one Vault, one operator.
var (
	env      *testenv.Env
	k8s      client.Client
	leak     *testenv.LeakCheck
	registry *prometheus.Registry
	// ownTokenFile stands in for the operator's projected ServiceAccount token.
	ownTokenFile string
	// feedAddr is where the suite's change feed listens (instant updates),
	// refreshAddr its refresh endpoint.
	feedAddr, refreshAddr string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, startOperator))
}

// startOperator runs the reconcilers in a manager that acts as the operator's
// ServiceAccount with the generated RBAC, logging into the leak check, and
// registers the leak scan that runs after every test.
func startOperator(ctx context.Context, e *testenv.Env) (func(), error) {
	env, k8s, leak, registry = e, e.Client, testenv.NewLeakCheck(), prometheus.NewRegistry()
	cfg, err := e.OperatorConfig(ctx)
	if err != nil {
		return nil, err
	}
	log := zap.New(zap.WriteTo(leak), zap.UseDevMode(true))
	ctrl.SetLogger(log)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: e.Scheme, Logger: log, Cache: CacheOptions(""),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	m := metrics.New(registry)
	// A short request timeout lets the latency fault test see timeouts quickly.
	ownTokenFile = filepath.Join(e.Dir, "operator-token")
	provider := vault.New(vault.WithRequestObserver(m.ObserveProviderRequest), vault.WithAuthRecheck(2*time.Second),
		vault.WithRequestTimeout(2*time.Second), vault.WithOwnTokenFile(ownTokenFile), vault.WithOperatorIdentity(true))
	feedMetrics := changefeed.NewMetrics(registry)
	changes := NewRemoteChanges(feedMetrics)
	feed := changefeed.New(changefeed.Options{Metrics: feedMetrics, Log: log.WithName("changefeed")}, changes)
	feedListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	feedAddr = feedListener.Addr().String()
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error { return feed.Serve(ctx, feedListener) })); err != nil {
		return nil, err
	}
	refreshListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	refreshAddr = refreshListener.Addr().String()
	tlsCfg, _, err := refreshapi.TLSConfig("")
	if err != nil {
		return nil, err
	}
	refresh := &refreshapi.Server{TLS: tlsCfg, Client: mgr.GetClient(), Target: changes, Log: log.WithName("refresh")}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error { return refresh.Serve(ctx, refreshListener) })); err != nil {
		return nil, err
	}
	deps := secretstore.Deps{Feed: feed, Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Metrics: m, Clock: clock.RealClock{}}
	r := &Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
		Recorder: mgr.GetEventRecorder("baosync"), Metrics: m, Clock: clock.RealClock{}, MaxConcurrentReconciles: 4, LeaseKey: testLeaseKey,
		// Rotation at each short interval is tested here; the default floor
		// of a minute is proven by the hostile suite's operator.
		MinGeneratorRotation: time.Millisecond, Changes: changes}
	// The other kinds run too, so that converted ESO manifests of every kind sync.
	err = errors.Join(
		secretstore.NewSecretStoreReconciler(deps).SetupWithManager(mgr),
		secretstore.NewClusterSecretStoreReconciler(deps).SetupWithManager(mgr),
		r.SetupWithManager(ctx, mgr),
		clusterexternalsecret.New(mgr.GetClient(), mgr.GetEventRecorder("baosync")).SetupWithManager(mgr),
		(&pushsecret.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: provider,
			Recorder: mgr.GetEventRecorder("baosync")}).SetupWithManager(ctx, mgr))
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(provider); err != nil { // the read-cache sweeper and the keeper of lease-owning tokens, as main.go runs them
		return nil, err
	}
	e.AfterTests(scanForLeaks)
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(mctx) }()
	return func() { cancel(); <-done }, nil
}
