package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// soakResult is what `make soak` reports.
type soakResult struct {
	N               int       `json:"n"`
	RefreshSeconds  float64   `json:"refresh_seconds"`
	DurationSeconds float64   `json:"duration_seconds"`
	GoroutinesStart float64   `json:"goroutines_start"`
	GoroutinesEnd   float64   `json:"goroutines_end"`
	RSSStartMiB     float64   `json:"rss_start_mib"`
	RSSEndMiB       float64   `json:"rss_end_mib"`
	RSSSamplesMiB   []float64 `json:"rss_samples_mib"`
	VaultRequests   int64     `json:"vault_requests"`
	AllReadyAtEnd   bool      `json:"all_ready_at_end"`
}

// runSoak syncs the first size with a short refresh interval and watches the
// operator's goroutines and memory for a while.
func runSoak(ctx context.Context, c config, refresh, duration time.Duration) (*soakResult, error) {
	c.refresh = refresh
	s := &scenario{cfg: c, n: c.sizes[0], paths: max(1, c.sizes[0]/c.pathRatios[0])}
	if err := s.setup(ctx); err != nil {
		s.teardown()
		return nil, err
	}
	defer s.teardown()
	res := &result{}
	for _, step := range []func(context.Context, *result) error{s.baseline, s.seedVault, s.startOperator, s.initialSync} {
		if err := step(ctx, res); err != nil {
			return nil, err
		}
	}
	time.Sleep(10 * time.Second) // let start-up settle before the first sample
	out := &soakResult{N: s.n, RefreshSeconds: refresh.Seconds(), GoroutinesStart: goroutines(s.operator.MetricsAddr), RSSStartMiB: round(s.operator.RSSMiB())}
	before := s.proxy.Counts()
	start := time.Now()
	for time.Since(start) < duration {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(30 * time.Second):
		}
		out.RSSSamplesMiB = append(out.RSSSamplesMiB, round(s.operator.RSSMiB()))
		fmt.Printf("    soak %3.0fs: RSS %.1f MiB, goroutines %.0f\n", time.Since(start).Seconds(), s.operator.RSSMiB(), goroutines(s.operator.MetricsAddr))
	}
	out.DurationSeconds = round(time.Since(start).Seconds())
	out.GoroutinesEnd, out.RSSEndMiB = goroutines(s.operator.MetricsAddr), round(s.operator.RSSMiB())
	for k, v := range s.proxy.Counts() {
		out.VaultRequests += v - before[k]
	}
	out.AllReadyAtEnd = s.track.snapshot().readyNow >= s.n
	fmt.Printf("soak: goroutines %.0f -> %.0f, RSS %.1f -> %.1f MiB over %.0fs, %d Vault requests, all Ready at end: %v\n",
		out.GoroutinesStart, out.GoroutinesEnd, out.RSSStartMiB, out.RSSEndMiB, out.DurationSeconds, out.VaultRequests, out.AllReadyAtEnd)
	return out, nil
}

// goroutines reads go_goroutines from the operator's metrics endpoint.
func goroutines(addr string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "go_goroutines ") {
			v, _ := strconv.ParseFloat(strings.TrimPrefix(line, "go_goroutines "), 64)
			return v
		}
	}
	return -1
}
