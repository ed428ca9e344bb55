package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// restartResult is what `make bench BENCH_FLAGS=-restart` reports: an
// operator restart with every object synced, as issue 26 asks.
type restartResult struct {
	N                    int                `json:"n"`
	Paths                int                `json:"paths"`
	FirstReconcilesSecs  float64            `json:"all_first_reconciles_seconds"`
	VaultReads           int64              `json:"vault_reads"`
	VaultRequests        int64              `json:"vault_requests"`
	SecretWrites         int64              `json:"secret_writes"`
	StatusWrites         int64              `json:"status_writes"`
	APIRequestsPerObject map[string]float64 `json:"api_requests_per_object"`
	PeakRSSMiB           float64            `json:"peak_rss_mib"`
	OperatorGOMEMLIMIT   string             `json:"operator_gomemlimit,omitempty"`
	// Sync is the initial sync before the restart, and SyncPeakRSSMiB the
	// first operator's peak RSS over it.
	Sync           *result `json:"initial_sync"`
	SyncPeakRSSMiB float64 `json:"initial_sync_peak_rss_mib"`
}

// runRestart syncs the first size, then stops the operator and starts a new
// one, and measures until the new one has reconciled every ExternalSecret
// once: time, Vault traffic, API writes, memory.
func runRestart(ctx context.Context, c config) (*restartResult, error) {
	s := &scenario{cfg: c, n: c.sizes[0], paths: max(1, c.sizes[0]/c.pathRatios[0])}
	if err := s.setup(ctx); err != nil {
		s.teardown()
		return nil, err
	}
	defer s.teardown()
	sync := &result{N: s.n, Paths: s.paths}
	for _, step := range []func(context.Context, *result) error{s.seedVault, s.startOperator, s.initialSync} {
		if err := step(ctx, sync); err != nil {
			return nil, err
		}
	}
	time.Sleep(5 * time.Second) // the first syncs' own follow-ups settle
	syncPeak := round(s.operator.PeakRSSMiB())
	fmt.Printf("    the first operator's peak RSS over the initial sync: %.0f MiB\n", syncPeak)
	s.operator.Stop()
	vault0, snap0 := s.proxy.Counts(), s.track.snapshot()
	start := time.Now()
	if err := s.startOperator(ctx, &result{}); err != nil {
		return nil, err
	}
	req0 := apiRequests(s.operator.MetricsAddr)
	deadline := time.Now().Add(s.syncLimit())
	for reconciles(s.operator.MetricsAddr) < float64(s.n) {
		if time.Now().After(deadline) || s.operator.Exited() {
			return nil, fmt.Errorf("the restarted operator reconciled %.0f of %d objects (log %s)", reconciles(s.operator.MetricsAddr), s.n, s.operator.LogPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := &restartResult{N: s.n, Paths: s.paths, FirstReconcilesSecs: round(time.Since(start).Seconds()), OperatorGOMEMLIMIT: c.memLimit,
		Sync: sync, SyncPeakRSSMiB: syncPeak}
	time.Sleep(3 * time.Second) // writes the last reconciles caused reach the watches
	vault1, snap1 := s.proxy.Counts(), s.track.snapshot()
	out.VaultReads = vault1["read"] - vault0["read"]
	for k, v := range vault1 {
		out.VaultRequests += v - vault0[k]
	}
	out.SecretWrites, out.StatusWrites = snap1.secretWrites-snap0.secretWrites, snap1.statusWrites-snap0.statusWrites
	out.APIRequestsPerObject = perObject(req0, apiRequests(s.operator.MetricsAddr), s.n)
	out.PeakRSSMiB = round(s.operator.PeakRSSMiB())
	if b, err := os.ReadFile(s.operator.LogPath); err == nil { // kept past the teardown, to see what the restart did
		keep := filepath.Join(os.TempDir(), "baosync-restart-operator.log")
		if os.WriteFile(keep, b, 0o600) == nil {
			fmt.Printf("    the restarted operator's log: %s\n", keep)
		}
	}
	fmt.Printf("restart with %d synced objects: every object reconciled in %.1fs; Vault %d reads (%d requests); %d Secret writes, %d status writes; API requests per object %v; peak RSS %.0f MiB\n",
		s.n, out.FirstReconcilesSecs, out.VaultReads, out.VaultRequests, out.SecretWrites, out.StatusWrites, out.APIRequestsPerObject, out.PeakRSSMiB)
	return out, nil
}

// reconciles is the ExternalSecret controller's reconciles so far.
func reconciles(addr string) float64 {
	var n float64
	for _, line := range metricLines(addr, "controller_runtime_reconcile_total{") {
		if !strings.Contains(line, `controller="externalsecret"`) {
			continue
		}
		if j := strings.LastIndexByte(line, ' '); j > 0 {
			v, _ := strconv.ParseFloat(line[j+1:], 64)
			n += v
		}
	}
	return n
}
