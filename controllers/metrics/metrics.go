// Package metrics defines baosync's Prometheus metrics. They are registered on
// controller-runtime's registry and served on the manager's metrics endpoint.
// Labels name kinds, reasons, operations and stores, never a secret value.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics holds every baosync metric.
type Metrics struct {
	// SyncCalls counts reconciles that did a sync, by kind and result (the Ready
	// reason, "SecretSynced" on success).
	SyncCalls *prometheus.CounterVec
	// SyncDuration observes how long a sync took, by kind.
	SyncDuration *prometheus.HistogramVec
	// ProviderRequests counts requests to OpenBao/Vault by operation and result.
	ProviderRequests *prometheus.CounterVec
	// StoreReady is 1 when a store is Ready, 0 when not.
	StoreReady *prometheus.GaugeVec
	// LeaseOperations counts dynamic-secret lease operations (issue, renew,
	// revoke) by result (ok, failed).
	LeaseOperations *prometheus.CounterVec
	// LeasesHeld is the number of dynamic-secret leases the operator keeps.
	LeasesHeld prometheus.Gauge
}

// New creates the metrics and registers them on reg (nil: controller-runtime's
// registry).
func New(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = ctrlmetrics.Registry
	}
	m := &Metrics{
		SyncCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baosync_sync_calls_total",
			Help: "Syncs performed, by kind and result reason.",
		}, []string{"kind", "reason"}),
		SyncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baosync_sync_duration_seconds",
			Help:    "Duration of a sync (fetch, render, apply), by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"kind"}),
		ProviderRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baosync_provider_requests_total",
			Help: "Requests to OpenBao/Vault, by operation (login, renew, lookup, read) and result.",
		}, []string{"operation", "result"}),
		StoreReady: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "baosync_store_ready",
			Help: "1 when the store can log in, 0 otherwise.",
		}, []string{"kind", "namespace", "name"}),
		LeaseOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baosync_lease_operations_total",
			Help: "Dynamic-secret lease operations (issue, renew, revoke), by result (ok, failed).",
		}, []string{"operation", "result"}),
		LeasesHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "baosync_leases_held",
			Help: "Dynamic-secret leases the operator keeps (renews and will revoke).",
		}),
	}
	reg.MustRegister(m.SyncCalls, m.SyncDuration, m.ProviderRequests, m.StoreReady, m.LeaseOperations, m.LeasesHeld)
	return m
}

// ObserveProviderRequest counts one provider request; it fits vault.WithRequestObserver.
func (m *Metrics) ObserveProviderRequest(operation, result string) {
	m.ProviderRequests.WithLabelValues(operation, result).Inc()
}
