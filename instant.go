package main

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/baosync/baosync/controllers/externalsecret"
	"github.com/baosync/baosync/controllers/secretstore"
	"github.com/baosync/baosync/internal/changefeed"
	"github.com/baosync/baosync/internal/refreshapi"
)

// instantUpdates builds what --change-feed-listen turns on: the change feed
// (run by the manager, on the leader) and the index of what each
// ExternalSecret reads. Without the flag both are nil and refreshes follow
// each object's interval.
func instantUpdates(mgr ctrl.Manager, o *options) (*externalsecret.RemoteChanges, secretstore.Feed, error) {
	if o.changeFeedListen == "" && o.refreshListen == "" {
		return nil, nil, nil
	}
	m := changefeed.NewMetrics(ctrlmetrics.Registry)
	changes := externalsecret.NewRemoteChanges(m)
	if err := refreshEndpoint(mgr, o, changes); err != nil {
		return nil, nil, err
	}
	if o.changeFeedListen == "" {
		return changes, nil, nil
	}
	feed := changefeed.New(changefeed.Options{Addr: o.changeFeedListen, MaxConns: o.changeFeedMaxConns, Metrics: m,
		Log: ctrl.Log.WithName("changefeed")}, changes)
	if err := mgr.Add(feed); err != nil {
		return nil, nil, fmt.Errorf("add the change feed: %w", err)
	}
	return changes, feed, nil
}

// refreshEndpoint adds the HTTPS refresh endpoint when --refresh-endpoint-listen is set.
func refreshEndpoint(mgr ctrl.Manager, o *options, changes *externalsecret.RemoteChanges) error {
	if o.refreshListen == "" {
		return nil
	}
	cfg, watcher, err := refreshapi.TLSConfig(o.refreshCertDir)
	if err != nil {
		return err
	}
	if watcher != nil {
		if err := mgr.Add(watcher); err != nil {
			return fmt.Errorf("add the refresh endpoint's certificate watcher: %w", err)
		}
	}
	srv := &refreshapi.Server{Addr: o.refreshListen, TLS: cfg, Client: mgr.GetClient(), Target: changes, Log: ctrl.Log.WithName("refresh-endpoint")}
	if err := mgr.Add(srv); err != nil {
		return fmt.Errorf("add the refresh endpoint: %w", err)
	}
	return nil
}
