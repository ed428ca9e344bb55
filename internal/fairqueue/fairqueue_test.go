package fairqueue

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func req(ns string, i int) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: fmt.Sprint(i)}}
}

func TestOrder_ANamespaceWithThousandsQueuedDoesNotDelayAnother(t *testing.T) {
	o := newOrder()
	for i := range 1000 {
		o.Push(req("noisy", i))
	}
	o.Push(req("quiet", 0))
	o.Push(req("quiet", 1))
	var got []string
	for range 4 {
		r := o.Pop()
		got = append(got, r.Namespace+"/"+r.Name)
	}
	want := []string{"noisy/0", "quiet/0", "noisy/1", "quiet/1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("served %v, want %v", got, want)
	}
	if o.Len() != 998 {
		t.Fatalf("Len %d, want 998", o.Len())
	}
}

func TestOrder_KeepsFIFOWithinANamespaceAndForgetsEmptyOnes(t *testing.T) {
	o := newOrder()
	for i := range 3 {
		o.Push(req("a", i))
	}
	for i := range 3 {
		if r := o.Pop(); r.Name != fmt.Sprint(i) {
			t.Fatalf("pop %d: got %s", i, r.Name)
		}
	}
	if o.Len() != 0 || len(o.byNS) != 0 || len(o.ring) != 0 {
		t.Fatalf("an empty queue holds %d items, %d namespaces, ring %v", o.Len(), len(o.byNS), o.ring)
	}
}

func TestNew_IsAWorkQueueThatDeduplicatesAndTakesTurns(t *testing.T) {
	q := New("", workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	for i := range 5 {
		q.Add(req("noisy", i))
		q.Add(req("noisy", i)) // a duplicate is queued once
	}
	q.Add(req("quiet", 0))
	if q.Len() != 6 {
		t.Fatalf("Len %d, want 6", q.Len())
	}
	first, _ := q.Get()
	second, _ := q.Get()
	if first.Namespace != "noisy" || second.Namespace != "quiet" {
		t.Fatalf("served %v then %v; the quiet namespace waited behind the noisy one", first, second)
	}
	q.Done(first)
	q.Done(second)
}
