package vault

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestReadCache_TheSweeperDropsOldReadsOfAnIdleStore(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := New(WithClock(clock), WithMaxReadAge(20*time.Millisecond))
	c := &storeClient{cache: readCache{entries: map[string]cachedRead{}, budget: p.opts.cacheBudget}}
	p.clients["idle"] = c
	c.cache.put("k", map[string]any{"v": "x"}, clock(), p.opts.maxReadAge)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- p.Start(ctx) }()
	mu.Lock()
	now = now.Add(time.Second) // the read is now older than maxReadAge; nobody touches the store
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for p.opts.cacheBudget.used.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("an idle store kept a read older than --max-read-age: the sweeper did not run")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("the sweeper stopped with %v", err)
	}
}

func TestReadCache_KeepsNothingWhenMaxReadAgeIsZero(t *testing.T) {
	rc := readCache{entries: map[string]cachedRead{}}
	now := time.Now()
	rc.put("k", map[string]any{"v": "x"}, now, 0)
	if len(rc.entries) != 0 {
		t.Fatal("a read was kept with --max-read-age=0")
	}
}

func TestSweepPeriod_EveryMinuteOrEveryMaxReadAgeWhenShorter(t *testing.T) {
	for _, tc := range []struct{ maxAge, want time.Duration }{
		{time.Hour, time.Minute}, {10 * time.Second, 10 * time.Second}, {0, time.Minute},
	} {
		if got := sweepPeriod(tc.maxAge); got != tc.want {
			t.Errorf("sweepPeriod(%v) = %v, want %v", tc.maxAge, got, tc.want)
		}
	}
}
