package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// OtherNamespaces is the namespace label of requests from namespaces past the
// bound of TenantRequests.
const OtherNamespaces = "_other"

// TenantRequests counts the requests of the namespaces that shared stores
// serve as themselves (a tenancy section or referent auth), by store,
// namespace, operation and result. The first max namespaces seen get a label
// of their own; the rest are counted together as OtherNamespaces, so that the
// series stay bounded however many namespaces the cluster has.
type TenantRequests struct {
	vec *prometheus.CounterVec
	max int

	mu   sync.Mutex
	seen map[string]bool
}

// NewTenantRequests creates the counter and registers it on reg (nil:
// controller-runtime's registry); maxNamespaces bounds
// the namespaces with a label of their own (0: none, every request counts as
// OtherNamespaces).
func NewTenantRequests(reg prometheus.Registerer, maxNamespaces int) *TenantRequests {
	t := &TenantRequests{max: maxNamespaces, seen: map[string]bool{},
		vec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baosync_tenant_requests_total",
			Help: "Requests of namespaces that a shared ClusterSecretStore serves as themselves, by store, namespace, operation (login, read, list, write, ...) and result (ok, denied, throttled, ...).",
		}, []string{"store", "namespace", "operation", "result"})}
	if reg == nil {
		reg = ctrlmetrics.Registry
	}
	reg.MustRegister(t.vec)
	return t
}

// Observe counts one request; it fits vault.WithTenantObserver.
func (t *TenantRequests) Observe(store, namespace, operation, result string) {
	t.vec.WithLabelValues(store, t.label(namespace), operation, result).Inc()
}

// label is namespace while the bound allows it, OtherNamespaces after.
func (t *TenantRequests) label(namespace string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[namespace] {
		return namespace
	}
	if len(t.seen) >= t.max {
		return OtherNamespaces
	}
	t.seen[namespace] = true
	return namespace
}
