package vault

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/singleflight"
)

func TestCoalescedRead_ACancelledFirstCallerDoesNotFailTheOthers(t *testing.T) {
	c := &storeClient{name: "SecretStore/ns/s", opts: &options{requestTimeout: time.Second}}
	var g singleflight.Group
	started, release := make(chan struct{}), make(chan struct{})
	sharedCtxErr := make(chan error, 1)
	firstCtx, cancelFirst := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.shared(firstCtx, &g, "k", func(ctx context.Context) (any, error) {
			close(started)
			<-release
			sharedCtxErr <- ctx.Err() // after the first caller gave up
			return "value", nil
		})
		first <- err
	}()
	<-started
	secondCtx := &joinedCtx{Context: context.Background(), joined: make(chan struct{})}
	type result struct {
		v   any
		err error
	}
	second := make(chan result, 1)
	go func() {
		v, err := c.shared(secondCtx, &g, "k", func(context.Context) (any, error) {
			return nil, errors.New("the second caller ran a request of its own instead of joining the first")
		})
		second <- result{v, err}
	}()
	<-secondCtx.joined
	cancelFirst()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled first caller: got %v, want it to stop waiting with context.Canceled", err)
	}
	close(release)
	if got := <-second; got.err != nil || got.v != "value" {
		t.Fatalf("the second caller got (%v, %v), want the shared value", got.v, got.err)
	}
	if err := <-sharedCtxErr; err != nil {
		t.Fatalf("the shared request ran on a context that ended with its first caller: %v", err)
	}
}

func TestCoalescedRead_TheSharedRequestHasItsOwnDeadline(t *testing.T) {
	c := &storeClient{name: "SecretStore/ns/s", opts: &options{requestTimeout: time.Second}}
	var g singleflight.Group
	var deadline time.Time
	_, err := c.shared(context.Background(), &g, "k", func(ctx context.Context) (any, error) {
		deadline, _ = ctx.Deadline()
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(deadline); left <= 0 || left > sharedCallRequests*time.Second {
		t.Fatalf("the shared request's deadline is %v away, want within %d request timeouts", left, sharedCallRequests)
	}
}

// joinedCtx reports, through joined, that the caller reached its wait:
// shared asks for Done only after it joined the flight.
type joinedCtx struct {
	context.Context
	once   sync.Once
	joined chan struct{}
}

func (c *joinedCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.joined) })
	return c.Context.Done()
}
