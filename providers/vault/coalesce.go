package vault

import (
	"context"
	"fmt"

	"golang.org/x/sync/singleflight"
)

// sharedCallRequests bounds how many requests one coalesced call may make: an
// admission, a login, the request, and after a refused token a lookup, a
// second login and the retry. Each request has its own requestTimeout; the
// shared call as a whole gets this many of them.
const sharedCallRequests = 5

// shared runs fn once for every caller asking for key at the same time and
// gives each the result. fn runs on a context detached from the callers'
// cancellation (it keeps their values: the namespace whose share pays for the
// request) with its own timeout, so that the reconcile that happened to ask
// first can be cancelled without failing everyone waiting on the same read.
// Each caller still stops waiting when its own ctx ends.
func (c *storeClient) shared(ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := g.DoChan(key, func() (any, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCallRequests*c.opts.requestTimeout)
		defer cancel()
		return fn(sctx)
	})
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("store %s: stopped waiting for a shared request: %w", c.name, ctx.Err())
	}
}
