package ledger

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/generatorstate"
)

// leaseTracker counts the leases this operator keeps, for the leases-held
// gauge: every current and retired lease of every ExternalSecret reconciled
// since the operator started (after a restart, each is counted again at its
// first reconcile).
type leaseTracker struct {
	mu    sync.Mutex
	owner map[string]types.UID // lease ID → ExternalSecret
}

// hold records the leases of an entry as held by uid.
func (t *leaseTracker) hold(m *metrics.Metrics, uid types.UID, e generatorstate.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.owner == nil {
		t.owner = map[string]types.UID{}
	}
	if e.Lease != nil && e.Lease.ID != "" {
		t.owner[e.Lease.ID] = uid
	}
	for _, r := range e.Retired {
		t.owner[r.Lease.ID] = uid
	}
	m.LeasesHeld.Set(float64(len(t.owner)))
}

// drop forgets leases that were revoked or expired.
func (t *leaseTracker) drop(m *metrics.Metrics, ids ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		delete(t.owner, id)
	}
	m.LeasesHeld.Set(float64(len(t.owner)))
}

// dropOwner forgets every lease of an ExternalSecret that is gone.
func (t *leaseTracker) dropOwner(m *metrics.Metrics, uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, o := range t.owner {
		if o == uid {
			delete(t.owner, id)
		}
	}
	m.LeasesHeld.Set(float64(len(t.owner)))
}
