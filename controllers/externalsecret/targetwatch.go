package externalsecret

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

// Bounds of the target watches: how many at once (beyond, objects rely on
// their retry) and how long each lasts.
const (
	maxTargetWatches = 100
	targetWatchFor   = 10 * time.Minute
)

// targetWatch watches, for an ExternalSecret waiting on a target Secret it
// does not manage (TargetConflict: someone else's Secret; TargetMissing: a
// Merge target not there yet), that one Secret by name, metadata only, so
// that its deletion or creation, the documented way out, syncs the object at
// once rather than at its next retry. Only managed Secrets are cached, so no
// other event would tell. Each watch is bounded in number and time and is
// stopped when the object syncs or goes.
type targetWatch struct {
	meta   metadata.Interface
	events chan event.TypedGenericEvent[*v1alpha1.ExternalSecret]
	ctx    context.Context // the manager's: every watch ends with it

	mu      sync.Mutex
	running map[types.NamespacedName]context.CancelFunc
}

func newTargetWatch(ctx context.Context, meta metadata.Interface) *targetWatch {
	return &targetWatch{meta: meta, ctx: ctx, events: make(chan event.TypedGenericEvent[*v1alpha1.ExternalSecret], maxTargetWatches),
		running: map[types.NamespacedName]context.CancelFunc{}}
}

// watch starts watching the target of es from resourceVersion (of the read
// that found it, or of the list that did not), unless it is watched already
// or the bound is reached.
func (w *targetWatch) watch(es *v1alpha1.ExternalSecret, resourceVersion string) {
	if w == nil {
		return
	}
	key := types.NamespacedName{Namespace: es.Namespace, Name: es.Name}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.running[key]; ok || len(w.running) >= maxTargetWatches {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, targetWatchFor)
	w.running[key] = cancel
	go w.run(ctx, key, es.TargetName(), resourceVersion)
}

// stop ends the watch of the object key names, if any.
func (w *targetWatch) stop(key types.NamespacedName) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cancel, ok := w.running[key]; ok {
		cancel()
		delete(w.running, key)
	}
}

// run waits for the target's creation or deletion and wakes the object.
func (w *targetWatch) run(ctx context.Context, key types.NamespacedName, target, resourceVersion string) {
	defer w.stop(key)
	stream, err := w.meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(key.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", target).String(), ResourceVersion: resourceVersion})
	if err != nil {
		return // the object's retry covers it
	}
	defer stream.Stop()
	for {
		var ev watch.Event
		var open bool
		select {
		case <-ctx.Done():
			return
		case ev, open = <-stream.ResultChan():
		}
		if !open {
			return
		}
		if ev.Type != watch.Added && ev.Type != watch.Deleted {
			continue
		}
		es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		select {
		case w.events <- event.TypedGenericEvent[*v1alpha1.ExternalSecret]{Object: es}:
		case <-ctx.Done():
		}
		return
	}
}

// count returns the number of running watches.
func (w *targetWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running)
}
