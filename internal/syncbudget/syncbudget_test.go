package syncbudget

import (
	"testing"
	"time"
)

func TestBudget_ANamespacePastItsShareWaitsAndOthersDoNot(t *testing.T) {
	b := New(10, 5)
	now := time.Unix(1000, 0)
	for i := range 5 {
		if d, _ := b.Take("noisy", now); d != 0 {
			t.Fatalf("sync %d of the burst waits %s", i, d)
		}
	}
	if d, tell := b.Take("noisy", now); d <= 0 || d > time.Second || !tell {
		t.Fatalf("past the burst: wait %s (told %v), want up to a tenth of a second, told", d, tell)
	}
	if _, tell := b.Take("noisy", now); tell {
		t.Fatal("a second wait within a minute is told again")
	}
	if d, _ := b.Take("quiet", now); d != 0 {
		t.Fatalf("another namespace waits %s", d)
	}
	if d, _ := b.Take("noisy", now.Add(100*time.Millisecond)); d != 0 {
		t.Fatalf("after a refill: wait %s", d)
	}
	later := now.Add(tellEvery + time.Second)
	for range 5 { // the refilled burst
		b.Take("noisy", later)
	}
	if _, tell := b.Take("noisy", later); !tell {
		t.Fatal("a wait a minute later is not told")
	}
}

func TestBudget_NilOrZeroAdmitsEverything(t *testing.T) {
	var none *Budget
	for _, b := range []*Budget{none, New(0, 0)} {
		for range 1000 {
			if d, _ := b.Take("ns", time.Unix(1000, 0)); d != 0 {
				t.Fatalf("waits %s", d)
			}
		}
	}
}
