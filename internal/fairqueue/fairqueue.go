// Package fairqueue is a work queue that takes turns between namespaces, so
// that one namespace with thousands of objects due at once does not queue
// every other namespace's reconciles behind its own.
package fairqueue

import (
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// New is a controller.Options.NewQueue: controller-runtime's rate-limited,
// delaying queue with its metrics, over a namespace-fair order.
func New(name string, limiter workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	q := workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[reconcile.Request]{Name: name, Queue: newOrder()})
	d := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[reconcile.Request]{Name: name, Queue: q})
	return workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{Name: name, DelayingQueue: d})
}

// order is the queue's storage: a FIFO per namespace, and a ring of the
// namespaces that have items, served one item each in turn. The workqueue
// calls it from one goroutine at a time and keeps each item in it at most
// once.
type order struct {
	byNS  map[string][]reconcile.Request
	ring  []string // namespaces with items, in turn order
	total int
}

var _ workqueue.Queue[reconcile.Request] = (*order)(nil)

func newOrder() *order { return &order{byNS: map[string][]reconcile.Request{}} }

// Touch keeps an item added again where it is.
func (o *order) Touch(reconcile.Request) {}

// Push appends item to its namespace's FIFO, giving the namespace a turn at
// the end of the ring when it had none.
func (o *order) Push(item reconcile.Request) {
	ns := item.Namespace
	if len(o.byNS[ns]) == 0 {
		o.ring = append(o.ring, ns)
	}
	o.byNS[ns] = append(o.byNS[ns], item)
	o.total++
}

// Len is the number of items.
func (o *order) Len() int { return o.total }

// Pop returns the oldest item of the namespace whose turn it is; the
// namespace goes to the end of the ring while it has more.
func (o *order) Pop() reconcile.Request {
	ns := o.ring[0]
	o.ring[0] = ""
	o.ring = o.ring[1:]
	items := o.byNS[ns]
	item := items[0]
	items[0] = reconcile.Request{}
	if items = items[1:]; len(items) == 0 {
		delete(o.byNS, ns)
	} else {
		o.byNS[ns] = items
		o.ring = append(o.ring, ns)
	}
	o.total--
	return item
}
