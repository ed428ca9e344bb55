package main

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/baosync/baosync/controllers/externalsecret"
	"github.com/baosync/baosync/controllers/secretstore"
	"github.com/baosync/baosync/internal/changefeed"
)

// instantUpdates builds what --change-feed-listen turns on: the change feed
// (run by the manager, on the leader) and the index of what each
// ExternalSecret reads. Without the flag both are nil and refreshes follow
// each object's interval.
func instantUpdates(mgr ctrl.Manager, o *options) (*externalsecret.RemoteChanges, secretstore.Feed, error) {
	if o.changeFeedListen == "" {
		return nil, nil, nil
	}
	m := changefeed.NewMetrics(ctrlmetrics.Registry)
	changes := externalsecret.NewRemoteChanges(m)
	feed := changefeed.New(changefeed.Options{Addr: o.changeFeedListen, MaxConns: o.changeFeedMaxConns, Metrics: m,
		Log: ctrl.Log.WithName("changefeed")}, changes)
	if err := mgr.Add(feed); err != nil {
		return nil, nil, fmt.Errorf("add the change feed: %w", err)
	}
	return changes, feed, nil
}
