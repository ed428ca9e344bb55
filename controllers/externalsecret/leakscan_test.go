package externalsecret

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/baosync/baosync/test/testenv"
)

// metricsToScan are the metrics a full run must have recorded, so that the
// scan read the label values of each.
var metricsToScan = []string{"baosync_sync_calls_total", "baosync_sync_duration_seconds", "baosync_provider_requests_total", "baosync_store_ready",
	"baosync_reconcile_failures_total"}

// scanForLeaks is the suite's last step (registered in startOperator, run by
// testenv.Main after every test and after the operator stopped): it scans the
// operator's logs, every event, every status and the metrics for any value the
// suite wrote to Vault, raw or base64. On a full run it also checks that the
// scan read enough for a clean result to mean something.
func scanForLeaks(ctx context.Context) error {
	report, err := leak.Scan(ctx, k8s, prometheus.Gatherers{registry, baosyncOnly(ctrlmetrics.Registry)})
	if err != nil || !testenv.FullRun() {
		return err
	}
	for _, want := range metricsToScan {
		if !slices.Contains(report.Metrics, want) {
			return fmt.Errorf("leak scan: metric %s was never recorded, so its labels were not scanned", want)
		}
	}
	switch {
	case report.Objects < 20:
		return fmt.Errorf("leak scan: only %d baosync objects to scan; the suite should have created many more", report.Objects)
	case report.Events <= 10:
		return fmt.Errorf("leak scan: only %d events to scan; the suite should have produced more", report.Events)
	case report.LogBytes <= 1000:
		return fmt.Errorf("leak scan: only %d bytes of logs to scan; the suite should have produced more", report.LogBytes)
	case report.Values < 20:
		return fmt.Errorf("leak scan: only %d remembered values; tests should wrap what they write to Vault in leak.Secret", report.Values)
	}
	return nil
}

// baosyncOnly gathers baosync's metrics from g: the failure counter
// (outcome.Retrying) lives in controller-runtime's registry, beside the Go
// runtime's, whose metric names hold words a test may have written to Vault
// ("forced").
func baosyncOnly(g prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		families, err := g.Gather()
		return slices.DeleteFunc(families, func(f *dto.MetricFamily) bool { return !strings.HasPrefix(f.GetName(), "baosync_") }), err
	})
}
