package externalsecret

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/internal/changefeed"
)

// RemoteChanges is the ExternalSecrets' side of instant updates: which
// objects read which paths of which store (filled by every sync from what it
// read), and the objects a change made due. It is the change feed's Handler
// and the refresh endpoint's target. A change only makes an object sync
// sooner, through its normal rules and its namespace's share of syncs; it
// carries no value.
type RemoteChanges struct {
	// Metrics counts the refreshes; nil counts nothing.
	Metrics *changefeed.Metrics
	// quiet bounds the events of refreshes that found the Secret current:
	// one write to a path read by thousands would otherwise cost as many.
	quiet *rate.Limiter

	mu         sync.Mutex
	paths      map[string]map[string]map[types.NamespacedName]struct{} // store -> full path -> objects
	roots      map[string]map[types.NamespacedName][]string            // store -> object -> find roots
	namespaces map[string]string                                       // store -> its OpenBao namespace; UnknownNamespace: any
	reads      map[types.NamespacedName][]reading                      // what each object registered
	due        map[types.NamespacedName]remoteChange                   // changes not yet synced
	connected  map[string]time.Time                                    // store -> when its stream last (re)connected
	pending    map[types.NamespacedName]struct{}                       // objects to hand to the controller
	wake       chan struct{}
}

// reading is one path (or find root) of a store that an object reads.
type reading struct {
	store, path string
	root        bool
}

// remoteChange is why an object is due: when the change was learnt (reads
// made before it are not current) and what it was, for its event.
type remoteChange struct {
	at     time.Time
	logged time.Time // when the server logged the change; zero when unknown
	what   string
}

// NewRemoteChanges returns an empty index.
func NewRemoteChanges(m *changefeed.Metrics) *RemoteChanges {
	return &RemoteChanges{Metrics: m, quiet: rate.NewLimiter(10, 100), paths: map[string]map[string]map[types.NamespacedName]struct{}{},
		roots: map[string]map[types.NamespacedName][]string{}, namespaces: map[string]string{},
		reads: map[types.NamespacedName][]reading{}, due: map[types.NamespacedName]remoteChange{}, connected: map[string]time.Time{},
		pending: map[types.NamespacedName]struct{}{}, wake: make(chan struct{}, 1)}
}

var _ changefeed.Handler = (*RemoteChanges)(nil)

// Changed is told of a change of a path of store's server.
func (rc *RemoteChanges) Changed(store string, c changefeed.Change) {
	v2, v1 := c.KVKeys()
	candidates := []string{c.Mount + "/" + v1}
	if v2 != "" {
		candidates = append(candidates, c.Mount+"/"+v2)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ns, ok := rc.namespaces[store]; ok && ns != changefeed.UnknownNamespace && c.Namespace != changefeed.UnknownNamespace && ns != c.Namespace {
		return
	}
	n := 0
	for o, matched := range rc.readersLocked(store, candidates) {
		// The event names what the object reads, never the path that changed:
		// under a find root that may be a path the object does not know.
		n += rc.markLocked(map[types.NamespacedName]struct{}{o: {}}, remoteChange{at: c.Received, logged: c.At,
			what: "a change of " + matched + " reported by the server's audit stream"})
	}
	rc.Metrics.Refreshed("change", n)
}

// Connected is told that store's audit stream (re)connected: changes made
// while it was down are unknown, so every object of the store catches up.
func (rc *RemoteChanges) Connected(store string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.connected[store] = time.Now()
	objs := map[types.NamespacedName]struct{}{}
	for _, set := range rc.paths[store] {
		for o := range set {
			objs[o] = struct{}{}
		}
	}
	for o := range rc.roots[store] {
		objs[o] = struct{}{}
	}
	n := rc.markLocked(objs, remoteChange{at: time.Now(), what: "the server's audit stream (re)connecting: changes made while it was away are caught up"})
	rc.Metrics.Refreshed("reconnect", n)
}

// Trigger makes the objects that read path (as KeyPath places it) of store
// due, for the refresh endpoint, and returns how many.
func (rc *RemoteChanges) Trigger(store, path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	path = strings.Trim(path, "/")
	objs := map[types.NamespacedName]struct{}{}
	for o := range rc.readersLocked(store, []string{path}) {
		objs[o] = struct{}{}
	}
	n := rc.markLocked(objs, remoteChange{at: time.Now(), what: "a refresh of " + path + " asked through the refresh endpoint"})
	rc.Metrics.Refreshed("endpoint", n)
	return n
}

// TriggerObject makes one object due, for the refresh endpoint.
func (rc *RemoteChanges) TriggerObject(key types.NamespacedName) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := rc.markLocked(map[types.NamespacedName]struct{}{key: {}}, remoteChange{at: time.Now(), what: "a refresh asked through the refresh endpoint"})
	rc.Metrics.Refreshed("endpoint", n)
}

// readersLocked is the objects that read one of the paths of store, by key
// or below a find root, each with what it reads that matched (its key's
// path, or "paths under" its find root).
func (rc *RemoteChanges) readersLocked(store string, paths []string) map[types.NamespacedName]string {
	objs := map[types.NamespacedName]string{}
	for _, p := range paths {
		for o := range rc.paths[store][p] {
			objs[o] = p
		}
		for o, roots := range rc.roots[store] {
			for _, r := range roots {
				if _, seen := objs[o]; !seen && (p == r || strings.HasPrefix(p, r+"/")) {
					objs[o] = "paths under " + r
				}
			}
		}
	}
	return objs
}

// markLocked makes objs due for ch, and wakes the hand-over.
func (rc *RemoteChanges) markLocked(objs map[types.NamespacedName]struct{}, ch remoteChange) int {
	for o := range objs {
		rc.due[o] = merged(rc.due[o], ch)
		rc.pending[o] = struct{}{}
	}
	if len(objs) > 0 {
		select {
		case rc.wake <- struct{}{}:
		default:
		}
	}
	return len(objs)
}

// take returns, and clears, the change that made key due.
func (rc *RemoteChanges) take(key types.NamespacedName) (remoteChange, bool) {
	if rc == nil {
		return remoteChange{}, false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ch, ok := rc.due[key]
	delete(rc.due, key)
	return ch, ok
}

// putBack keeps a change whose sync had to wait.
func (rc *RemoteChanges) putBack(key types.NamespacedName, ch remoteChange) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.due[key] = merged(rc.due[key], ch)
}

// merged is two unsynced changes of one object as one: a read is current
// only when made after the later one; the earlier one's server time is the
// start of the delay the metric measures.
func merged(prev, ch remoteChange) remoteChange {
	if prev.at.IsZero() {
		return ch
	}
	out := ch
	if prev.at.After(ch.at) {
		out = prev
	}
	out.logged = earliest(prev.logged, ch.logged)
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// knows reports whether key is in the index.
func (rc *RemoteChanges) knows(key types.NamespacedName) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	_, ok := rc.reads[key]
	return ok
}

// index records what key reads, replacing what it read before; namespaces
// are the OpenBao namespaces of the stores it reads. An object new to the
// index (the operator restarted) whose store's stream connected after its
// last sync (lastSync) is made due: changes made meanwhile are unknown.
func (rc *RemoteChanges) index(key types.NamespacedName, reads []reading, namespaces map[string]string, lastSync time.Time) {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	_, known := rc.reads[key]
	rc.unindexLocked(key)
	if !known {
		for s := range namespaces {
			if at, ok := rc.connected[s]; ok && at.After(lastSync) {
				rc.markLocked(map[types.NamespacedName]struct{}{key: {}}, remoteChange{at: at,
					what: "the server's audit stream connecting after this object's last sync: changes made meanwhile are caught up"})
				rc.Metrics.Refreshed("reconnect", 1)
				break
			}
		}
	}
	for _, r := range reads {
		if r.root {
			if rc.roots[r.store] == nil {
				rc.roots[r.store] = map[types.NamespacedName][]string{}
			}
			rc.roots[r.store][key] = append(rc.roots[r.store][key], r.path)
			continue
		}
		if rc.paths[r.store] == nil {
			rc.paths[r.store] = map[string]map[types.NamespacedName]struct{}{}
		}
		if rc.paths[r.store][r.path] == nil {
			rc.paths[r.store][r.path] = map[types.NamespacedName]struct{}{}
		}
		rc.paths[r.store][r.path][key] = struct{}{}
	}
	rc.reads[key] = reads
	for s, ns := range namespaces {
		rc.namespaces[s] = ns
	}
}

// forget drops everything of an object that is gone.
func (rc *RemoteChanges) forget(key types.NamespacedName) {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.unindexLocked(key)
	delete(rc.due, key)
	delete(rc.pending, key)
}

func (rc *RemoteChanges) unindexLocked(key types.NamespacedName) {
	for _, r := range rc.reads[key] {
		if r.root {
			delete(rc.roots[r.store], key)
			if len(rc.roots[r.store]) == 0 {
				delete(rc.roots, r.store)
			}
			continue
		}
		delete(rc.paths[r.store][r.path], key)
		if len(rc.paths[r.store][r.path]) == 0 {
			delete(rc.paths[r.store], r.path)
		}
		if len(rc.paths[r.store]) == 0 {
			delete(rc.paths, r.store)
		}
	}
	delete(rc.reads, key)
}

// handOver sends the due objects to out until ctx ends.
func (rc *RemoteChanges) handOver(ctx context.Context, out func(types.NamespacedName) bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-rc.wake:
		}
		rc.mu.Lock()
		keys := make([]types.NamespacedName, 0, len(rc.pending))
		for k := range rc.pending {
			keys = append(keys, k)
		}
		clear(rc.pending)
		rc.mu.Unlock()
		for _, k := range keys {
			if !out(k) {
				return
			}
		}
	}
}
