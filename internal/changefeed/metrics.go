package changefeed

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the feed reads; a nil *Metrics counts nothing.
type Metrics struct {
	// Received counts lines read from the audit streams.
	Received prometheus.Counter
	// Dropped counts lines dropped, by reason (malformed, oversized,
	// unknown_stream, rate_limited, not_a_kv_write, too_many_connections).
	Dropped *prometheus.CounterVec
	// Changes counts the KV writes the streams reported.
	Changes prometheus.Counter
	// Refreshes counts the ExternalSecrets a change (or a reconnection, or
	// the trigger endpoint) made refresh.
	Refreshes *prometheus.CounterVec
	// Latency observes the time from the server's entry to the write of the
	// Secret it changed.
	Latency prometheus.Histogram
}

// NewMetrics creates the feed's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounter(prometheus.CounterOpts{Name: "baosync_changefeed_entries_received_total",
			Help: "Lines read from OpenBao/Vault audit streams (--change-feed-listen)."}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baosync_changefeed_entries_dropped_total",
			Help: "Audit stream lines dropped, by reason."}, []string{"reason"}),
		Changes: prometheus.NewCounter(prometheus.CounterOpts{Name: "baosync_changefeed_changes_total",
			Help: "Writes to KV paths that audit streams reported."}),
		Refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baosync_changefeed_refreshes_total",
			Help: "ExternalSecrets refreshed at once, by trigger (change, reconnect, endpoint)."}, []string{"trigger"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "baosync_changefeed_change_to_write_seconds",
			Help:    "Time from the server's audit entry of a change to the write of the Secret it changed.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
	}
	reg.MustRegister(m.Received, m.Dropped, m.Changes, m.Refreshes, m.Latency)
	return m
}

func (m *Metrics) received() {
	if m != nil {
		m.Received.Inc()
	}
}

func (m *Metrics) dropped(reason string) {
	if m != nil {
		m.Dropped.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) change() {
	if m != nil {
		m.Changes.Inc()
	}
}

// Refreshed counts n ExternalSecrets refreshed by trigger.
func (m *Metrics) Refreshed(trigger string, n int) {
	if m != nil && n > 0 {
		m.Refreshes.WithLabelValues(trigger).Add(float64(n))
	}
}

// Observe records the time from a change to the write it caused.
func (m *Metrics) Observe(seconds float64) {
	if m != nil {
		m.Latency.Observe(seconds)
	}
}
