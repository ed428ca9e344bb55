package clusterexternalsecret

import (
	"context"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/baosync/baosync/test/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(ctx context.Context, e *testenv.Env) (func(), error) {
		k8s = e.Client
		cfg, err := e.OperatorConfig(ctx)
		if err != nil {
			return nil, err
		}
		log := zap.New(zap.WriteTo(os.Stderr))
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: e.Scheme, Logger: log,
			Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
		if err != nil {
			return nil, err
		}
		if err := New(mgr.GetClient(), mgr.GetEventRecorder("baosync")).SetupWithManager(mgr); err != nil {
			return nil, err
		}
		mctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = mgr.Start(mctx) }()
		return func() { cancel(); <-done }, nil
	}))
}
