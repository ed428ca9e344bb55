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
	for _, line := range metricLines(addr, "go_goroutines ") {
		v, _ := strconv.ParseFloat(strings.TrimPrefix(line, "go_goroutines "), 64)
		return v
	}
	return -1
}

// apiRequests sums the operator's Kubernetes API requests by HTTP method
// (client-go's rest_client_requests_total on its metrics endpoint).
func apiRequests(addr string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range metricLines(addr, "rest_client_requests_total{") {
		i := strings.Index(line, `method="`)
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		method, _, _ := strings.Cut(line[i+len(`method="`):], `"`)
		v, _ := strconv.ParseFloat(line[j+1:], 64)
		out[method] += v
	}
	return out
}

// perObject is (after - before) / n, by key.
func perObject(before, after map[string]float64, n int) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = round(d / float64(n))
		}
	}
	return out
}

// metricLines returns the lines of the operator's metrics that start with prefix.
func metricLines(addr, prefix string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return out
}
