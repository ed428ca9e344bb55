package esocompat

import (
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics are ESO's status_condition gauges, under ESO's names, so that
// dashboards and alerts written for ESO keep working: for each object the
// series of its Ready status is 1 and the other 0, as ESO sets them. Labels
// are the object's name and namespace, the condition and the status.
type Metrics struct {
	gauges map[string]*prometheus.GaugeVec
}

// NewMetrics registers the gauges on reg (nil: controller-runtime's registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = ctrlmetrics.Registry
	}
	m := &Metrics{gauges: map[string]*prometheus.GaugeVec{}}
	for _, k := range kinds {
		if k.metric == "" {
			continue
		}
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: k.metric, Name: "status_condition",
			Help: "The status condition of a " + k.gvk.Kind + " of External Secrets Operator served by baosync (ESO's metric)."},
			[]string{"name", "namespace", "condition", "status"})
		reg.MustRegister(g)
		m.gauges[k.metric] = g
	}
	return m
}

// set records the object's Ready status.
func (m *Metrics) set(k kind, eso *unstructured.Unstructured, ready metav1.ConditionStatus) {
	g := m.gauges[k.metric]
	if g == nil {
		return
	}
	for _, s := range []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse} {
		v := 0.0
		if s == ready {
			v = 1
		}
		g.WithLabelValues(eso.GetName(), eso.GetNamespace(), "Ready", string(s)).Set(v)
	}
}

// forget removes the series of an object that is gone or no longer served.
func (m *Metrics) forget(k kind, key types.NamespacedName) {
	if g := m.gauges[k.metric]; g != nil {
		g.DeletePartialMatch(prometheus.Labels{"name": key.Name, "namespace": key.Namespace})
	}
}
