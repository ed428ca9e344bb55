package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// instantResult is what `make bench BENCH_FLAGS="-instant ..."` reports: the
// time from a Vault write to the Secrets' update, with the change feed or by
// polling, and the Vault requests at rest.
type instantResult struct {
	N                          int     `json:"n"`
	Paths                      int     `json:"paths"`
	Mode                       string  `json:"mode"` // "change feed" or "polling every <interval>"
	RefreshInterval            string  `json:"refresh_interval"`
	PathsWritten               int     `json:"paths_written"`
	SecretsUpdated             int     `json:"secrets_updated"`
	P50Seconds                 float64 `json:"write_to_secret_p50_seconds"`
	P99Seconds                 float64 `json:"write_to_secret_p99_seconds"`
	VaultRequestsAtRestPerHour float64 `json:"vault_requests_at_rest_per_hour"`
	AllReadySeconds            float64 `json:"all_ready_seconds"`
	PeakRSSMiB                 float64 `json:"peak_rss_mib"`
}

// instantStreamToken is the audit device's prefix in the benchmark.
const instantStreamToken = "bench-audit-stream-token-0123456789"

// runInstant creates the first size of ExternalSecrets, then writes 10 paths
// one after the other and times each to the update of every Secret that reads
// it. With feed, the operator listens to Vault's socket audit device and the
// store opts in; otherwise the objects poll at the refresh interval.
func runInstant(ctx context.Context, c config, feed bool) (*instantResult, error) {
	s := &scenario{cfg: c, n: c.sizes[0], paths: max(1, c.sizes[0]/c.pathRatios[0])}
	port, err := testenv.FreePortPair()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	out := &instantResult{N: s.n, Paths: s.paths, RefreshInterval: c.refresh.String(), Mode: "polling every " + c.refresh.String()}
	if feed {
		s.cfg.operatorArg += " --change-feed-listen " + addr
		out.Mode = "change feed"
	}
	if err := s.setup(ctx); err != nil {
		s.teardown()
		return nil, err
	}
	defer s.teardown()
	start, err := s.prepareInstant(ctx, feed, addr)
	if err != nil {
		return nil, err
	}
	out.AllReadySeconds = round(time.Since(start).Seconds())
	out.VaultRequestsAtRestPerHour = s.atRest()
	lat, err := s.writePaths(ctx, 10, 2*c.refresh+30*time.Second)
	if err != nil {
		return nil, err
	}
	out.PathsWritten, out.SecretsUpdated = 10, len(lat)
	out.P50Seconds, out.P99Seconds = round(percentile(lat, 0.5)), round(percentile(lat, 0.99))
	out.PeakRSSMiB = round(s.operator.PeakRSSMiB())
	fmt.Printf("instant updates (%s): %d Secrets updated after writes to %d paths: p50 %.2fs, p99 %.2fs\n",
		out.Mode, out.SecretsUpdated, out.PathsWritten, out.P50Seconds, out.P99Seconds)
	return out, nil
}

// prepareInstant seeds Vault, opts the store in (with feed), starts the
// operator and the audit stream, creates the ExternalSecrets and waits until
// all are Ready; it returns when the creation started.
func (s *scenario) prepareInstant(ctx context.Context, feed bool, addr string) (time.Time, error) {
	if err := s.seedVault(ctx, &result{}); err != nil {
		return time.Time{}, err
	}
	if feed {
		if err := s.optIn(ctx); err != nil {
			return time.Time{}, err
		}
	}
	if err := s.startOperator(ctx, &result{}); err != nil {
		return time.Time{}, err
	}
	if feed {
		if err := s.streamAudit(ctx, addr); err != nil {
			return time.Time{}, err
		}
	}
	start := time.Now()
	if err := s.createAll(ctx, "es-"); err != nil {
		return start, err
	}
	return start, s.waitReady(ctx, 20*time.Minute)
}

// atRest counts Vault requests over a minute after the first syncs, per hour.
func (s *scenario) atRest() float64 {
	time.Sleep(10 * time.Second) // let first-sync traffic end
	before, t0 := s.proxy.Counts(), time.Now()
	time.Sleep(60 * time.Second)
	var n int64
	for k, v := range s.proxy.Counts() {
		n += v - before[k]
	}
	perHour := round(float64(n) * float64(time.Hour) / float64(time.Since(t0)))
	fmt.Printf("    at rest: %d Vault requests in %.0fs (%.0f per hour)\n", n, time.Since(t0).Seconds(), perHour)
	return perHour
}

// optIn gives the scenario's ClusterSecretStore the stream token.
func (s *scenario) optIn(ctx context.Context) error {
	opNs := testenv.OperatorNamespace
	if err := s.cl.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bench-stream", Namespace: opNs},
		StringData: map[string]string{"token": instantStreamToken}}); err != nil {
		return err
	}
	css := &v1alpha1.ClusterSecretStore{}
	if err := s.cl.Get(ctx, client.ObjectKey{Name: "vault"}, css); err != nil {
		return err
	}
	css.Spec.InstantUpdates = &v1alpha1.InstantUpdates{StreamTokenSecretRef: &v1alpha1.SecretKeySelector{Name: "bench-stream", Key: "token", Namespace: &opNs}}
	return s.cl.Update(ctx, css)
}

// streamAudit points a socket audit device of the scenario's Vault at addr
// (testenv.AuditStream).
func (s *scenario) streamAudit(ctx context.Context, addr string) error {
	_, err := s.env.AuditStream(ctx, "bench", addr, instantStreamToken)
	return err
}

// writePaths writes n paths, one every two seconds, and returns, sorted, the
// seconds from each write to the update of each Secret that reads the path.
func (s *scenario) writePaths(ctx context.Context, n int, limit time.Duration) ([]float64, error) {
	type write struct {
		at      time.Time
		secrets []string
		value   string
	}
	var writes []write
	for j := range min(n, s.paths) {
		w := write{value: fmt.Sprintf("changed-%d", j)}
		for i := j; i < s.n; i += s.paths {
			w.secrets = append(w.secrets, fmt.Sprintf("%s/es-%d", ns(i%s.cfg.namespaces), i))
		}
		w.at = time.Now()
		if err := s.env.KVPut(ctx, fmt.Sprintf("secret/bench/p-%d", j), map[string]any{"username": fmt.Sprintf("user-%d", j), "password": w.value}); err != nil {
			return nil, err
		}
		writes = append(writes, w)
		time.Sleep(2 * time.Second)
	}
	deadline := time.Now().Add(limit)
	for {
		var lat []float64
		pending := 0
		for _, w := range writes {
			for _, key := range w.secrets {
				if seen := s.track.password(key); seen.value == w.value {
					lat = append(lat, seen.at.Sub(w.at).Seconds())
				} else {
					pending++
				}
			}
		}
		if pending == 0 {
			sort.Float64s(lat)
			return lat, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d Secrets not updated %s after the writes", pending, limit)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
