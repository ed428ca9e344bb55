package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// noisyResult is what `make bench BENCH_FLAGS=-noisy` reports: the time to
// Ready of n ExternalSecrets in quiet namespaces, without and then with one
// namespace hammering the operator.
type noisyResult struct {
	N          int     `json:"n"`
	Namespaces int     `json:"namespaces"`
	Noise      string  `json:"noise"`
	QuietP50   float64 `json:"quiet_p50_ready_seconds"`
	QuietP99   float64 `json:"quiet_p99_ready_seconds"`
	NoisyP50   float64 `json:"with_neighbour_p50_ready_seconds"`
	NoisyP99   float64 `json:"with_neighbour_p99_ready_seconds"`
	P99Ratio   float64 `json:"p99_ratio"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// NoisyReasons counts the noisy namespace's objects by their Ready
	// reason at the end, and its events by reason, to show the noise ran.
	NoisyReasons map[string]int `json:"noisy_reasons"`
	OperatorArgs string         `json:"operator_args,omitempty"`
}

// noise sizes: generator-only objects at 1s, objects whose server sends big
// answers slowly, and objects whose reads of the shared store hit a Vault
// rate-limit quota (429).
const (
	noisyGenerators = 1000
	noisySlow       = 20
	noisyQuota      = 100
	noisyNamespace  = "noisy"
)

// runNoisy measures the quiet namespaces' p50/p99 time to Ready alone, then
// again while the noisy namespace runs.
func runNoisy(ctx context.Context, c config) (*noisyResult, error) {
	s := &scenario{cfg: c, n: c.sizes[0], paths: max(1, c.sizes[0]/c.pathRatios[0])}
	if err := s.setup(ctx); err != nil {
		s.teardown()
		return nil, err
	}
	defer s.teardown()
	for _, step := range []func(context.Context, *result) error{s.seedVault, s.startOperator} {
		if err := step(ctx, &result{}); err != nil {
			return nil, err
		}
	}
	out := &noisyResult{N: s.n, Namespaces: c.namespaces, OperatorArgs: c.operatorArg,
		Noise: fmt.Sprintf("%d Password-only objects at 1s, %d objects on a server trickling 320 KiB answers, %d objects over a Vault quota (429), one namespace",
			noisyGenerators, noisySlow, noisyQuota)}
	var err error
	if out.QuietP50, out.QuietP99, err = s.phase(ctx, "quiet-"); err != nil {
		return nil, err
	}
	slow := trickler()
	defer func() { slow.CloseClientConnections(); slow.Close() }()
	if err := s.startNoise(ctx, slow.URL); err != nil {
		return nil, err
	}
	fmt.Printf("    the noisy namespace runs; waiting 15s before the second phase\n")
	time.Sleep(15 * time.Second)
	if out.NoisyP50, out.NoisyP99, err = s.phase(ctx, "loud-"); err != nil {
		return nil, err
	}
	out.NoisyReasons = s.reasons(ctx, noisyNamespace)
	out.P99Ratio = round(out.NoisyP99 / max(out.QuietP99, 0.01))
	out.PeakRSSMiB = round(s.operator.PeakRSSMiB())
	fmt.Printf("noisy neighbour: p50 %.2fs -> %.2fs, p99 %.2fs -> %.2fs (x%.2f), peak RSS %.0f MiB; the noisy namespace's objects: %v\n",
		out.QuietP50, out.NoisyP50, out.QuietP99, out.NoisyP99, out.P99Ratio, out.PeakRSSMiB, out.NoisyReasons)
	return out, nil
}

// phase creates the scenario's n ExternalSecrets named prefix… and returns
// their p50 and p99 time to Ready.
func (s *scenario) phase(ctx context.Context, prefix string) (float64, float64, error) {
	if err := s.createAll(ctx, prefix); err != nil {
		return 0, 0, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		lat, created := s.track.phase(prefix)
		if len(lat) >= created {
			p50, p99 := round(percentile(lat, 0.5)), round(percentile(lat, 0.99))
			fmt.Printf("    %s: %d Ready, p50 %.2fs, p99 %.2fs\n", strings.TrimSuffix(prefix, "-"), len(lat), p50, p99)
			return p50, p99, nil
		}
		if time.Now().After(deadline) || s.operator.Exited() {
			return 0, 0, fmt.Errorf("%s: only %d of %d Ready (operator log %s)", prefix, len(lat), created, s.operator.LogPath)
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// reasons counts namespace's ExternalSecrets by Ready reason ("ready/…") and
// its events by reason ("event/…").
func (s *scenario) reasons(ctx context.Context, namespace string) map[string]int {
	out := map[string]int{}
	list := &v1alpha1.ExternalSecretList{}
	if err := s.cl.List(ctx, list, client.InNamespace(namespace)); err == nil {
		for _, e := range list.Items {
			reason := "none"
			if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c != nil {
				reason = c.Reason
			}
			out["ready/"+reason]++
		}
	}
	events := &eventsv1.EventList{}
	if err := s.cl.List(ctx, events, client.InNamespace(namespace)); err == nil {
		for _, e := range events.Items {
			out["event/"+e.Reason]++
		}
	}
	return out
}

// startNoise fills the noisy namespace.
func (s *scenario) startNoise(ctx context.Context, slowURL string) error {
	if err := s.cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: noisyNamespace}}); err != nil {
		return err
	}
	if _, err := s.env.Write(ctx, "sys/quotas/rate-limit/noisy", map[string]any{"path": "secret/data/noisy/", "rate": 1}); err != nil {
		return fmt.Errorf("the Vault quota: %w", err)
	}
	if err := s.env.KVPut(ctx, "secret/noisy/q", map[string]any{"k": "v"}); err != nil {
		return err
	}
	every := &metav1.Duration{Duration: time.Second}
	objs := []*v1alpha1.ExternalSecret{}
	add := func(n int, name string, store v1alpha1.SecretStoreRef, spec func(*v1alpha1.ExternalSecretSpec)) {
		for i := range n {
			e := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: noisyNamespace},
				Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: store, RefreshInterval: every}}
			spec(&e.Spec)
			objs = append(objs, e)
		}
	}
	shared := v1alpha1.SecretStoreRef{Name: "vault", Kind: v1alpha1.SecretStoreKindCluster}
	add(noisyGenerators, "gen", shared, func(sp *v1alpha1.ExternalSecretSpec) {
		sp.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{
			GeneratorRef: &v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}}}}
	})
	add(noisyQuota, "quota", shared, func(sp *v1alpha1.ExternalSecretSpec) {
		sp.Data = []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "noisy/q", Property: "k"}}}
	})
	add(noisySlow, "slow", v1alpha1.SecretStoreRef{Name: "slow"}, func(sp *v1alpha1.ExternalSecretSpec) {
		sp.Data = []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "slow", Property: "k"}}}
	})
	path := "secret"
	pre := []client.Object{
		&v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: noisyNamespace}, Spec: v1alpha1.PasswordSpec{Length: 16}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slow-token", Namespace: noisyNamespace}, StringData: map[string]string{"token": "noisy-tenant-token"}},
		&v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: noisyNamespace}, Spec: v1alpha1.SecretStoreSpec{
			Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: slowURL, Path: &path,
				Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "slow-token", Key: "token"}}}}}},
	}
	for _, o := range pre {
		if err := s.cl.Create(ctx, o); err != nil {
			return err
		}
	}
	return parallel(ctx, s.cfg.workers, len(objs), func(i int) error { return s.cl.Create(ctx, objs[i]) })
}

// trickler is a tenant's server: every KV read gets the first 320 KiB of an
// answer at once and the rest never.
func trickler() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/v1/auth/token/lookup-self":
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"id": "x", "ttl": 0, "policies": []string{"root"}}})
		case strings.HasPrefix(p, "/v1/sys/internal/ui/mounts"):
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"path": "secret/", "type": "kv", "options": map[string]any{"version": "2"}}})
		default:
			_, _ = io.WriteString(w, `{"data":{"data":{"k":"`)
			_, _ = w.Write([]byte(strings.Repeat("T", 320<<10)))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
}
