package vault

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/baosync/baosync/providers"
)

func TestFairShare_ANamespacePastItsShareIsThrottledWithoutWaiting(t *testing.T) {
	f := newFairShare(&options{namespaceRate: 1, namespaceBurst: 2, rateLimit: 1000, rateBurst: 1000})
	ctx := context.Background()
	for i := range 2 {
		if err := f.admit(ctx, "s", "greedy"); err != nil {
			t.Fatalf("request %d within the burst: %v", i, err)
		}
	}
	err := f.admit(ctx, "s", "greedy")
	var te *providers.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, providers.ErrThrottled) || te.After <= 0 {
		t.Fatalf("past its share: got %v, want a ThrottledError with a delay", err)
	}
	if te.StoreWide || te.Namespace != "greedy" {
		t.Fatalf("the share that ran out is greedy's own: %+v", te)
	}
	if err := f.admit(ctx, "s", "patient"); err != nil {
		t.Fatalf("another namespace is throttled too: %v", err)
	}
}

func TestFairShare_TheStoresWholeBudgetRunningOutSaysSo(t *testing.T) {
	f := newFairShare(&options{namespaceRate: 1000, namespaceBurst: 1000, rateLimit: 1, rateBurst: 1})
	ctx := context.Background()
	if err := f.admit(ctx, "s", "a"); err != nil {
		t.Fatalf("within the store's burst: %v", err)
	}
	err := f.admit(ctx, "s", "b")
	var te *providers.ThrottledError
	if !errors.As(err, &te) || !te.StoreWide {
		t.Fatalf("past the store's budget: got %v, want a store-wide ThrottledError", err)
	}
	if !strings.Contains(err.Error(), "the store's request budget is used up") {
		t.Fatalf("the message blames a namespace's share: %v", err)
	}
}

func TestInFlight_ANamespaceCannotHoldMoreThanItsSlots(t *testing.T) {
	f := &inFlight{max: 2}
	r1, err1 := f.acquire("s", "slow")
	_, err2 := f.acquire("s", "slow")
	if err1 != nil || err2 != nil {
		t.Fatalf("within the slots: %v, %v", err1, err2)
	}
	if _, err := f.acquire("s", "slow"); !errors.Is(err, providers.ErrThrottled) {
		t.Fatalf("past the slots: got %v, want ErrThrottled", err)
	}
	if _, err := f.acquire("s", "other"); err != nil {
		t.Fatalf("another namespace is held too: %v", err)
	}
	r1()
	if _, err := f.acquire("s", "slow"); err != nil {
		t.Fatalf("a released slot is free again: %v", err)
	}
}

func TestReadCache_StaysUnderTheProviderBudget(t *testing.T) {
	budget := &cacheBudget{max: 10 << 10}
	a := readCache{entries: map[string]cachedRead{}, budget: budget}
	b := readCache{entries: map[string]cachedRead{}, budget: budget}
	now := time.Now()
	big := map[string]any{"v": strings.Repeat("x", 6<<10)}
	a.put("k", big, now, time.Hour)
	b.put("k", big, now, time.Hour) // no room left: not kept
	if _, ok := b.get("k", time.Hour, now); ok {
		t.Fatal("a read past the shared budget was cached")
	}
	a.clear()
	b.put("k", big, now, time.Hour)
	if _, ok := b.get("k", time.Hour, now); !ok {
		t.Fatal("the budget was not given back when a store's cache was cleared")
	}
	if used := budget.used.Load(); used <= 0 || used > budget.max {
		t.Fatalf("budget used %d of %d", used, budget.max)
	}
}
