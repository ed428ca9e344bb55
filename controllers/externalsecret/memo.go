package externalsecret

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// syncMemo remembers each ExternalSecret's last successful sync in memory,
// for syncDue. The status cannot say it: the cache lags behind the operator's
// own status writes (the event of the Secret it just wrote arrives before the
// status patch is visible), and under --refresh-status=OnChange a quiet
// refresh writes no status at all.
//
// The provider's read cache does not replace it: that answers "may this read
// be served without the server", not "is this object due". Without the memo
// the reconcile that follows each write, and under OnChange every unrelated
// trigger once the status's refreshTime is older than the interval, would run
// a whole sync again: Vault would be spared by the read cache, but the sync
// would re-render the Secret, write the status again and announce
// SecretSynced a second time. The memo costs about 100 bytes per object.
type syncMemo struct {
	mu   sync.Mutex
	last map[types.NamespacedName]syncRecord
	// stale holds the objects whose generator changed since their last sync:
	// nothing in the object itself says so.
	stale map[types.NamespacedName]struct{}
	// deferred holds when each object's refresh began waiting for a store's
	// request budget (deferRefresh), and when it last did, until it syncs or
	// fails.
	deferred map[types.NamespacedName]deferral
}

// deferral is a run of refreshes that waited for a store's request budget.
type deferral struct{ first, last time.Time }

// deferralGap ends a run of deferrals: a refresh that waits again after this
// long (held meanwhile by a sync window or the budget, say) starts a new run.
const deferralGap = time.Minute

// syncRecord is what one successful sync established.
type syncRecord struct {
	uid     types.UID // the object that was synced, not an earlier one of the same name
	version string    // resourceVersionOf the ExternalSecret that was synced
	at      time.Time
	// generatedDue is the generatedDue of the status that sync wrote. A reconcile on
	// a cached status that predates it must still wait for the lease: under
	// the priority queue, an event of the same object replaces the delayed
	// requeue, so a reconcile that returns no delay drops the lease's timer.
	generatedDue time.Time
}

// remember records a successful sync.
func (m *syncMemo) remember(key types.NamespacedName, uid types.UID, version string, at, generatedDue time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[types.NamespacedName]syncRecord{}
	}
	m.last[key] = syncRecord{uid: uid, version: version, at: at, generatedDue: generatedDue}
	delete(m.deferred, key)
}

// recall returns the record of the object, if it is about this very object.
func (m *syncMemo) recall(key types.NamespacedName, uid types.UID) (syncRecord, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.last[key]
	return r, ok && r.uid == uid
}

// forget drops the record of an ExternalSecret that failed or is gone. A
// stale mark stays: a generator change that arrives during a failing sync
// must still count at the next one.
func (m *syncMemo) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.last, key)
	delete(m.deferred, key)
}

// drop forgets everything of an ExternalSecret that is gone.
func (m *syncMemo) drop(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.last, key)
	delete(m.stale, key)
	delete(m.deferred, key)
}

// deferredSince returns when the object's refresh began waiting for a store's
// request budget: now, unless it waited within deferralGap before.
func (m *syncMemo) deferredSince(key types.NamespacedName, now time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.deferred == nil {
		m.deferred = map[types.NamespacedName]deferral{}
	}
	d, ok := m.deferred[key]
	if !ok || now.Sub(d.last) > deferralGap {
		d.first = now
	}
	d.last = now
	m.deferred[key] = d
	return d.first
}

// markStale records that a generator of the object changed, so that its next
// reconcile syncs as after a change of its own spec.
func (m *syncMemo) markStale(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stale == nil {
		m.stale = map[types.NamespacedName]struct{}{}
	}
	m.stale[key] = struct{}{}
}

// takeStale reports whether the object was marked stale, and clears the mark.
func (m *syncMemo) takeStale(key types.NamespacedName) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.stale[key]
	delete(m.stale, key)
	return ok
}
