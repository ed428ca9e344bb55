package metrics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/internal/changefeed"
	"github.com/baosync/baosync/internal/outcome"
)

// failing is a reconciler whose every pass fails.
type failing struct{}

func (failing) Reconcile(context.Context, reconcile.Request) outcome.Result {
	return outcome.Failed(errors.New("boom"), 0)
}

// TestAlertsAndDashboardUseOnlyMetricsThatExist keeps config/prometheus and
// config/grafana from drifting away from the metrics the operator exports.
func TestAlertsAndDashboardUseOnlyMetricsThatExist(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.SyncCalls.WithLabelValues("ExternalSecret", "SecretSynced").Inc()
	m.SyncDuration.WithLabelValues("ExternalSecret").Observe(1)
	m.ObserveProviderRequest("read", "ok")
	m.StoreReady.WithLabelValues("SecretStore", "ns", "s").Set(1)
	m.LeaseOperations.WithLabelValues("renew", "ok").Inc()
	NewTenantRequests(reg, 1).Observe("ClusterSecretStore//s", "ns", "read", "ok")
	cf := changefeed.NewMetrics(reg)
	cf.Dropped.WithLabelValues("malformed").Inc()
	cf.Refreshes.WithLabelValues("change").Inc()
	// outcome.Retrying's failure counter lives in controller-runtime's registry.
	_, _ = outcome.Retrying("metrics-test", "Failed", failing{}).Reconcile(context.Background(), reconcile.Request{})
	families, err := prometheus.Gatherers{reg, ctrlmetrics.Registry}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range families {
		known[f.GetName()] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			known[f.GetName()+suffix] = true
		}
	}
	root := filepath.Join("..", "..")
	names := regexp.MustCompile(`baosync_[a-z_]+`)
	for _, f := range []string{"config/prometheus/rules.yaml", "config/grafana/baosync-dashboard.json", "docs/metrics.md"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names.FindAllString(string(b), -1) {
			if !known[strings.TrimSuffix(name, "_")] {
				t.Errorf("%s uses %s, which the operator does not export", f, name)
			}
		}
	}
}
