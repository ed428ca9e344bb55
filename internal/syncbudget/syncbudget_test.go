package syncbudget

import (
	"testing"
	"time"
)

func TestBudget_ANamespacePastItsShareWaitsAndOthersDoNot(t *testing.T) {
	b := New(10, 5)
	now := time.Unix(1000, 0)
	for i := range 5 {
		if d := b.Take("noisy", now); d != 0 {
			t.Fatalf("sync %d of the burst waits %s", i, d)
		}
	}
	if d := b.Take("noisy", now); d <= 0 || d > time.Second {
		t.Fatalf("past the burst: wait %s, want up to a tenth of a second", d)
	}
	if d := b.Take("quiet", now); d != 0 {
		t.Fatalf("another namespace waits %s", d)
	}
	if d := b.Take("noisy", now.Add(100*time.Millisecond)); d != 0 {
		t.Fatalf("after a refill: wait %s", d)
	}
}

func TestBudget_NilOrZeroAdmitsEverything(t *testing.T) {
	var none *Budget
	for _, b := range []*Budget{none, New(0, 0)} {
		for range 1000 {
			if d := b.Take("ns", time.Unix(1000, 0)); d != 0 {
				t.Fatalf("waits %s", d)
			}
		}
	}
}

func TestBudget_ForgetsIdleNamespaces(t *testing.T) {
	b := New(1, 1)
	now := time.Unix(1000, 0)
	for i := range 100 {
		b.Take(string(rune('a'+i%26))+"-ns", now)
	}
	b.Take("late", now.Add(2*idle))
	if len(b.buckets) != 1 {
		t.Fatalf("%d buckets kept, want 1", len(b.buckets))
	}
}
