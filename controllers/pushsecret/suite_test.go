package pushsecret

import (
	"context"
	"io"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/baosync/baosync/controllers/clusterpushsecret"
	"github.com/baosync/baosync/providers/vault"
	"github.com/baosync/baosync/test/testenv"
)

// The suite's shared state: one control plane, one Vault, one operator whose
// logs go to the leak check as well as to stderr.
var (
	env  *testenv.Env
	leak = testenv.NewLeakCheck()
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(ctx context.Context, e *testenv.Env) (func(), error) {
		env = e
		cfg, err := e.OperatorConfig(ctx)
		if err != nil {
			return nil, err
		}
		// After every test: no pushed value in the logs, events or statuses.
		e.AfterTests(func(ctx context.Context) error {
			_, err := leak.Scan(ctx, e.Client, nil)
			return err
		})
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: e.Scheme, Logger: zap.New(zap.WriteTo(io.MultiWriter(leak, os.Stderr))),
			Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
		if err != nil {
			return nil, err
		}
		r := &Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Provider: vault.New(), Recorder: mgr.GetEventRecorder("baosync")}
		if err := r.SetupWithManager(ctx, mgr); err != nil {
			return nil, err
		}
		if err := clusterpushsecret.New(mgr.GetClient(), mgr.GetEventRecorder("baosync")).SetupWithManager(mgr); err != nil {
			return nil, err
		}
		mctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = mgr.Start(mctx) }()
		return func() { cancel(); <-done }, nil
	}))
}
