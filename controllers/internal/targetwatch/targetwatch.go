// Package targetwatch watches, for an ExternalSecret waiting on a target
// Secret it does not manage, that one Secret by name (metadata only), so that
// its deletion or creation syncs the object at once. The watches are bounded
// in number, per namespace and in time.
package targetwatch

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Bounds of the target watches: how many at once, in all and per namespace
// (beyond, objects rely on their retry), and how long each lasts. The second
// half of the pool is kept for namespaces holding fewer than
// minTargetWatchesNamespace, so that a few namespaces cannot take every watch
// from the others.
const (
	maxTargetWatches          = 100
	maxTargetWatchesNamespace = 5
	minTargetWatchesNamespace = 2
	targetWatchFor            = 10 * time.Minute
)

// admitWatch reports whether a namespace holding held watches may start one
// more while total run.
func admitWatch(total, held int) bool {
	switch {
	case total >= maxTargetWatches || held >= maxTargetWatchesNamespace:
		return false
	case total >= maxTargetWatches/2:
		return held < minTargetWatchesNamespace
	}
	return true
}

// Watcher watches, for an ExternalSecret waiting on a target Secret it
// does not manage (TargetConflict: someone else's Secret; TargetMissing: a
// Merge target not there yet), that one Secret by name, metadata only, so
// that its deletion or creation, the documented way out, syncs the object at
// once rather than at its next retry. Only managed Secrets are cached, so no
// other event would tell. The watches are bounded in number, per namespace
// too, and in time, and each is stopped when its object syncs or goes.
type Watcher struct {
	meta   metadata.Interface
	events chan event.TypedGenericEvent[*v1alpha1.ExternalSecret]
	ctx    context.Context // the manager's: every watch ends with it

	mu      sync.Mutex
	running map[types.NamespacedName]*watching
	perNS   map[string]int
	next    uint64
}

// watching is one running watch.
type watching struct {
	id     uint64
	target string
	cancel context.CancelFunc
}

// New returns a Watcher whose watches end with ctx (the manager's).
func New(ctx context.Context, meta metadata.Interface) *Watcher {
	return &Watcher{meta: meta, ctx: ctx, events: make(chan event.TypedGenericEvent[*v1alpha1.ExternalSecret], maxTargetWatches),
		running: map[types.NamespacedName]*watching{}, perNS: map[string]int{}}
}

// Watch starts watching the target of es, last seen with uid ("" when it did
// not exist), unless it is watched already or a bound is reached. A watch of
// another target name (the spec changed) is replaced.
func (w *Watcher) Watch(es *v1alpha1.ExternalSecret, uid types.UID) {
	if w == nil {
		return
	}
	key := types.NamespacedName{Namespace: es.Namespace, Name: es.Name}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.running[key]; ok {
		if cur.target == es.TargetName() {
			return
		}
		w.removeLocked(key, cur.id)
	}
	if !admitWatch(len(w.running), w.perNS[key.Namespace]) {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, targetWatchFor)
	w.next++
	entry := &watching{id: w.next, target: es.TargetName(), cancel: cancel}
	w.running[key] = entry
	w.perNS[key.Namespace]++
	go w.run(ctx, key, entry, uid)
}

// Stop ends the watch of the object key names, if any.
func (w *Watcher) Stop(key types.NamespacedName) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.running[key]; ok {
		w.removeLocked(key, cur.id)
	}
}

// removeLocked ends and forgets the watch id of key, if it is still the one
// running: a watch that ended never removes its successor.
func (w *Watcher) removeLocked(key types.NamespacedName, id uint64) {
	cur, ok := w.running[key]
	if !ok || cur.id != id {
		return
	}
	cur.cancel()
	delete(w.running, key)
	if w.perNS[key.Namespace]--; w.perNS[key.Namespace] <= 0 {
		delete(w.perNS, key.Namespace)
	}
}

// run lists the target (a watch must start from a current resourceVersion:
// the Secret's own may be older than the server keeps), wakes the object at
// once if the target already changed since it was seen, and otherwise waits
// for its creation or deletion.
func (w *Watcher) run(ctx context.Context, key types.NamespacedName, entry *watching, seen types.UID) {
	defer func() {
		w.mu.Lock()
		w.removeLocked(key, entry.id)
		w.mu.Unlock()
	}()
	secrets := w.meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(key.Namespace)
	byName := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", entry.target).String()}
	list, err := secrets.List(ctx, byName)
	if err != nil {
		return // the object's retry covers it
	}
	var now types.UID
	if len(list.Items) > 0 {
		now = list.Items[0].UID
	}
	if now != seen {
		w.wake(key, entry.id)
		return
	}
	byName.ResourceVersion = list.ResourceVersion
	stream, err := secrets.Watch(ctx, byName)
	if err != nil {
		return
	}
	defer stream.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, open := <-stream.ResultChan():
			if !open || ev.Type == watch.Error {
				return // the retry covers it
			}
			if ev.Type == watch.Added || ev.Type == watch.Deleted {
				w.wake(key, entry.id)
				return
			}
		}
	}
}

// wake forgets the watch first, so that the reconcile it causes may watch
// again, then enqueues the object.
func (w *Watcher) wake(key types.NamespacedName, id uint64) {
	w.mu.Lock()
	w.removeLocked(key, id)
	w.mu.Unlock()
	es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	select { // the watch's own context is done now; the manager's decides
	case w.events <- event.TypedGenericEvent[*v1alpha1.ExternalSecret]{Object: es}:
	case <-w.ctx.Done():
	}
}

// count returns the number of running watches.
func (w *Watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running)
}

// Events are the wake-ups of the objects whose target was created or deleted,
// for the controller's channel source.
func (w *Watcher) Events() <-chan event.TypedGenericEvent[*v1alpha1.ExternalSecret] {
	return w.events
}
