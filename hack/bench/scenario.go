package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// scenario is one run: n ExternalSecrets over paths Vault paths.
type scenario struct {
	cfg         config
	n, paths    int
	memoryCheck bool

	env      *testenv.Env
	proxy    *testenv.Proxy
	cl       client.WithWatch
	operator *testenv.OperatorProcess
	track    *tracker
	// pprofAddr is the operator's pprof endpoint, with -heap-profile.
	pprofAddr string
}

// result holds one scenario's figures; the JSON keys are the documented ones.
type result struct {
	N                          int     `json:"n"`
	Paths                      int     `json:"paths"`
	AllReadySeconds            float64 `json:"all_ready_seconds"`
	P50ReadySeconds            float64 `json:"p50_ready_seconds"`
	P99ReadySeconds            float64 `json:"p99_ready_seconds"`
	RawBaselineSeconds         float64 `json:"raw_baseline_seconds"`
	RatioToBaseline            float64 `json:"ratio_to_baseline"`
	VaultLogins                int64   `json:"vault_logins"`
	VaultReadsInitial          int64   `json:"vault_reads_initial"`
	VaultReadsRefreshCycle     int64   `json:"vault_reads_refresh_cycle"`
	VaultRequestsRefreshCycle  int64   `json:"vault_requests_refresh_cycle"`
	SecretWritesUnchangedCycle int64   `json:"secret_writes_unchanged_cycle"`
	StatusWritesUnchangedCycle int64   `json:"status_writes_unchanged_cycle"`
	RefreshCycleSeconds        float64 `json:"refresh_cycle_seconds"`
	PeakRSSMiB                 float64 `json:"peak_rss_mib"`
	CPUSeconds                 float64 `json:"cpu_seconds"`
	IdleCPUPercent             float64 `json:"idle_cpu_percent"`
	APIServerCPUSecondsSync    float64 `json:"apiserver_cpu_seconds_initial_sync"`
	EtcdCPUSecondsSync         float64 `json:"etcd_cpu_seconds_initial_sync"`
	OperatorCPUSecondsSync     float64 `json:"operator_cpu_seconds_initial_sync"`
	ESCreateSeconds            float64 `json:"externalsecret_create_seconds"`
	// RatioToAccept is all-Ready time over ESCreateSeconds, the time the API
	// server took to accept the ExternalSecrets (issue 26's goal: 1.5).
	RatioToAccept float64 `json:"ratio_to_accept"`
	// APIRequestsPerObjectSync is the operator's Kubernetes API requests per
	// object during the initial sync, by HTTP method.
	APIRequestsPerObjectSync map[string]float64 `json:"api_requests_per_object_initial_sync"`
	RSSBeforeBigSecretsMiB   float64            `json:"rss_before_200x1mib_secrets_mib,omitempty"`
	RSSAfterBigSecretsMiB    float64            `json:"rss_after_200x1mib_secrets_mib,omitempty"`
	OutageSeconds            float64            `json:"outage_seconds,omitempty"`
	OutageVaultRequests      int64              `json:"outage_vault_requests,omitempty"`
	RecoverySeconds          float64            `json:"recovery_seconds,omitempty"`
	OperatorArgs             string             `json:"operator_args,omitempty"`
	OperatorGOMEMLIMIT       string             `json:"operator_gomemlimit,omitempty"`
	ESOCompat                bool               `json:"eso_compat,omitempty"`
	Tenancy                  bool               `json:"tenancy,omitempty"`
	Machine                  string             `json:"machine"`
}

func (s *scenario) run(ctx context.Context) (*result, error) {
	fmt.Printf("\n=== scenario: %d ExternalSecrets over %d paths, %d namespaces, %d unrelated Secrets, %d ConfigMaps\n",
		s.n, s.paths, s.cfg.namespaces, s.cfg.unrelated, s.cfg.configMaps)
	if err := s.setup(ctx); err != nil {
		s.teardown()
		return nil, err
	}
	defer s.teardown()
	res := &result{N: s.n, Paths: s.paths, OperatorArgs: s.cfg.operatorArg, OperatorGOMEMLIMIT: s.cfg.memLimit, ESOCompat: s.cfg.esoCompat, Machine: machine()}
	steps := []func(context.Context, *result) error{s.baseline, s.seedVault, s.startOperator, s.initialSync, s.refreshCycle}
	if s.memoryCheck {
		steps = append(steps, s.bigSecrets)
	}
	if s.cfg.outage > 0 {
		steps = append(steps, s.vaultOutage)
	}
	for _, step := range steps {
		if err := step(ctx, res); err != nil {
			return nil, err
		}
	}
	res.PeakRSSMiB = round(s.operator.PeakRSSMiB())
	res.CPUSeconds = round(s.operator.CPUSeconds())
	return res, nil
}

// setup starts the servers, the proxy, the client and the watches, and creates
// the namespaces and the unrelated objects.
func (s *scenario) setup(ctx context.Context) error {
	var err error
	if s.env, err = testenv.Start(ctx, testenv.Options{}); err != nil {
		return err
	}
	if s.proxy, err = testenv.StartProxy(s.env.Vault.Addr); err != nil {
		return err
	}
	cfg := rest.CopyConfig(s.env.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	if s.cl, err = client.NewWithWatch(cfg, client.Options{Scheme: s.env.Scheme}); err != nil {
		return err
	}
	if s.cfg.esoCompat {
		if err := s.env.InstallESOCRDs(ctx); err != nil {
			return err
		}
		if err := s.env.GrantESOCompat(ctx); err != nil {
			return err
		}
	}
	s.track = newTracker()
	go s.track.watchExternalSecrets(ctx, s.cl)
	go s.track.watchManagedSecrets(ctx, s.cl)
	for i := range s.cfg.namespaces {
		if err := s.cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns(i)}}); err != nil {
			return err
		}
	}
	start := time.Now()
	err = parallel(ctx, s.cfg.workers, s.cfg.unrelated, func(i int) error {
		return s.cl.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i), Namespace: ns(i % s.cfg.namespaces)},
			Data: map[string][]byte{"blob": []byte(strings.Repeat("x", 512))}})
	})
	if err != nil {
		return err
	}
	err = parallel(ctx, s.cfg.workers, s.cfg.configMaps, func(i int) error {
		return s.cl.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i), Namespace: ns(i % s.cfg.namespaces)},
			Data: map[string]string{"k": strings.Repeat("y", 512)}})
	})
	fmt.Printf("    created %d unrelated Secrets and %d ConfigMaps in %.1fs\n", s.cfg.unrelated, s.cfg.configMaps, time.Since(start).Seconds())
	return err
}

// baseline times creating n plain Secrets with the same client and concurrency.
func (s *scenario) baseline(ctx context.Context, res *result) error {
	start := time.Now()
	err := parallel(ctx, s.cfg.workers, s.n, func(i int) error {
		return s.cl.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("raw-%d", i), Namespace: ns(i % s.cfg.namespaces)},
			Data: map[string][]byte{"username": []byte("u"), "password": []byte("p")}})
	})
	res.RawBaselineSeconds = round(time.Since(start).Seconds())
	fmt.Printf("    raw baseline: %d Secrets created in %.1fs\n", s.n, res.RawBaselineSeconds)
	return err
}

// seedVault writes the paths and an AppRole, and creates the ClusterSecretStore
// that reaches Vault through the counting proxy.
func (s *scenario) seedVault(ctx context.Context, res *result) error {
	if s.cfg.tenancy {
		err := s.seedTenancy(ctx)
		res.Paths, res.Tenancy = s.paths, true
		return err
	}
	err := parallel(ctx, 16, s.paths, func(i int) error {
		return s.env.KVPut(ctx, fmt.Sprintf("secret/bench/p-%d", i), map[string]any{"username": fmt.Sprintf("user-%d", i), "password": fmt.Sprintf("pw-%d", i)})
	})
	if err != nil {
		return err
	}
	roleID, secretID, err := s.env.AppRole(ctx, "bench")
	if err != nil {
		return err
	}
	if _, err := s.env.OperatorConfig(ctx); err != nil { // creates the operator's namespace
		return err
	}
	opNs := testenv.OperatorNamespace
	if err := s.cl.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bench-approle", Namespace: opNs},
		StringData: map[string]string{"secret-id": secretID}}); err != nil {
		return err
	}
	path := "secret"
	return s.create(ctx, &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "vault"},
		Spec: v1alpha1.SecretStoreSpec{Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{
			Server: s.proxy.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
			Auth: v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &roleID,
				SecretRef: v1alpha1.SecretKeySelector{Name: "bench-approle", Key: "secret-id", Namespace: &opNs}}}}}}})
}

func (s *scenario) startOperator(ctx context.Context, _ *result) error {
	bin := filepath.Join(testenv.BinDir(), "baosync")
	if _, err := os.Stat(bin); err != nil {
		if bin, err = testenv.BuildOperator(ctx, s.env.Dir); err != nil {
			return err
		}
	}
	var env []string
	if s.cfg.memLimit != "" {
		env = append(env, "GOMEMLIMIT="+s.cfg.memLimit)
	}
	args := strings.Fields(s.cfg.operatorArg)
	pprof, err := s.pprofArgs()
	if err != nil {
		return err
	}
	args = append(args, pprof...)
	if s.cfg.esoCompat {
		args = append(args, "--eso-compat")
	}
	if s.operator, err = s.env.StartOperatorWithEnv(ctx, bin, "operator", env, args...); err != nil {
		return err
	}
	// The store turning Ready shows the controllers run; the clock starts after.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		css := &v1alpha1.ClusterSecretStore{}
		if err := s.cl.Get(ctx, client.ObjectKey{Name: "vault"}, css); err == nil &&
			len(css.Status.Conditions) > 0 && css.Status.Conditions[0].Status == metav1.ConditionTrue {
			return nil
		}
		if time.Now().After(deadline) || s.operator.Exited() {
			return fmt.Errorf("the ClusterSecretStore did not turn Ready (operator log %s)", s.operator.LogPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createAll creates the scenario's n ExternalSecrets, named prefix and a
// number, spread over the namespaces and paths, and tracks them.
func (s *scenario) createAll(ctx context.Context, prefix string) error {
	return parallel(ctx, s.cfg.workers, s.n, func(i int) error {
		name := fmt.Sprintf("%s%d", prefix, i)
		key := fmt.Sprintf("bench/p-%d", i%s.paths)
		if s.cfg.tenancy {
			key = s.tenantKey(i)
		}
		es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns(i % s.cfg.namespaces)},
			Spec: v1alpha1.ExternalSecretSpec{
				SecretStoreRef:  v1alpha1.SecretStoreRef{Name: "vault", Kind: v1alpha1.SecretStoreKindCluster},
				RefreshInterval: &metav1.Duration{Duration: s.cfg.refresh},
				Data: []v1alpha1.ExternalSecretData{
					{SecretKey: "username", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: "username"}},
					{SecretKey: "password", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: "password"}},
				}}}
		s.track.markCreated(es.Namespace+"/"+name, time.Now())
		return s.create(ctx, es)
	})
}

// initialSync creates the ExternalSecrets and waits until all are Ready. It
// also accounts the CPU of the API server, etcd and the operator meanwhile, to
// show where the time goes on this machine.
func (s *scenario) initialSync(ctx context.Context, res *result) error {
	api0, etcd0, op0 := cpuOf("kube-apiserver"), cpuOf("etcd"), s.operator.CPUSeconds()
	req0 := apiRequests(s.operator.MetricsAddr)
	start := time.Now()
	if err := s.createAll(ctx, "es-"); err != nil {
		return err
	}
	res.ESCreateSeconds = round(time.Since(start).Seconds())
	fmt.Printf("    created %d ExternalSecrets in %.1fs\n", s.n, res.ESCreateSeconds)
	if err := s.waitReady(ctx, s.syncLimit()); err != nil {
		return err
	}
	res.APIServerCPUSecondsSync = round(cpuOf("kube-apiserver") - api0)
	res.EtcdCPUSecondsSync = round(cpuOf("etcd") - etcd0)
	res.OperatorCPUSecondsSync = round(s.operator.CPUSeconds() - op0)
	res.APIRequestsPerObjectSync = perObject(req0, apiRequests(s.operator.MetricsAddr), s.n)
	fmt.Printf("    the operator's API requests per object during the sync, by method: %v\n", res.APIRequestsPerObjectSync)
	fmt.Printf("    CPU during the sync: kube-apiserver %.1fs, etcd %.1fs, operator %.1fs\n",
		res.APIServerCPUSecondsSync, res.EtcdCPUSecondsSync, res.OperatorCPUSecondsSync)
	lat, _, last := s.track.latencies()
	res.AllReadySeconds = round(last.Sub(start).Seconds())
	res.P50ReadySeconds, res.P99ReadySeconds = round(percentile(lat, 0.5)), round(percentile(lat, 0.99))
	res.RatioToBaseline = round(res.AllReadySeconds / res.RawBaselineSeconds)
	res.RatioToAccept = round(res.AllReadySeconds / res.ESCreateSeconds)
	c := s.proxy.Counts()
	res.VaultLogins, res.VaultReadsInitial = c["login"], c["read"]
	fmt.Printf("    all %d Ready %.1fs after the first create, %.2fx the accept time (p50 %.2fs, p99 %.2fs); Vault: %d logins, %d reads\n",
		s.n, res.AllReadySeconds, res.RatioToAccept, res.P50ReadySeconds, res.P99ReadySeconds, c["login"], c["read"])
	return s.heapProfile(ctx, "synced")
}

// syncLimit is how long the initial sync may take: 20 minutes, or 25 ms per
// object past 48,000 (at 100,000 the API server alone takes minutes to
// accept them on 2 cores).
func (s *scenario) syncLimit() time.Duration {
	return max(20*time.Minute, time.Duration(s.n)*25*time.Millisecond)
}

// waitReady waits until every ExternalSecret is Ready now.
func (s *scenario) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		snap := s.track.snapshot()
		if snap.readyNow >= s.n {
			return nil
		}
		if time.Now().After(deadline) || s.operator.Exited() {
			return fmt.Errorf("only %d of %d Ready after %s (operator log %s)", snap.readyNow, s.n, limit, s.operator.LogPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// refreshCycle waits through one full refresh cycle with unchanged values:
// every object's next refresh falls between its first sync plus the interval
// and that plus the 10% jitter.
func (s *scenario) refreshCycle(ctx context.Context, res *result) error {
	_, first, last := s.track.latencies()
	end := last.Add(s.cfg.refresh*11/10 + 3*time.Second)
	if time.Now().After(first.Add(s.cfg.refresh)) {
		fmt.Printf("    note: the initial sync took longer than the refresh interval; early refreshes fall before the cycle window\n")
	}
	before, snap, cpu0, t0 := s.proxy.Counts(), s.track.snapshot(), s.operator.CPUSeconds(), time.Now()
	fmt.Printf("    waiting %.0fs for one refresh cycle with unchanged values...\n", time.Until(end).Seconds())
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(end)):
	}
	after, snap2, cpu1 := s.proxy.Counts(), s.track.snapshot(), s.operator.CPUSeconds()
	res.RefreshCycleSeconds = round(time.Since(t0).Seconds())
	res.VaultReadsRefreshCycle = after["read"] - before["read"]
	for k, v := range after {
		res.VaultRequestsRefreshCycle += v - before[k]
	}
	res.SecretWritesUnchangedCycle = snap2.secretWrites - snap.secretWrites
	res.StatusWritesUnchangedCycle = snap2.statusWrites - snap.statusWrites
	res.IdleCPUPercent = round(100 * (cpu1 - cpu0) / res.RefreshCycleSeconds)
	fmt.Printf("    refresh cycle (%.0fs): Vault %d reads (%d requests); %d Secret writes, %d status writes; operator CPU %.2f%% of a core\n",
		res.RefreshCycleSeconds, res.VaultReadsRefreshCycle, res.VaultRequestsRefreshCycle, res.SecretWritesUnchangedCycle, res.StatusWritesUnchangedCycle, res.IdleCPUPercent)
	return nil
}

// bigSecrets adds 200 unrelated 1 MiB Secrets and compares the operator's RSS.
func (s *scenario) bigSecrets(ctx context.Context, res *result) error {
	res.RSSBeforeBigSecretsMiB = round(s.operator.RSSMiB())
	blob := make([]byte, 1000*1024)
	for i := range blob {
		blob[i] = byte('a' + i%26)
	}
	err := parallel(ctx, 8, 200, func(i int) error {
		return s.cl.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("big-%d", i), Namespace: ns(i % s.cfg.namespaces)},
			Data: map[string][]byte{"blob": blob}})
	})
	if err != nil {
		return err
	}
	time.Sleep(15 * time.Second)
	res.RSSAfterBigSecretsMiB = round(s.operator.RSSMiB())
	fmt.Printf("    200 unrelated 1 MiB Secrets: operator RSS %.1f -> %.1f MiB\n", res.RSSBeforeBigSecretsMiB, res.RSSAfterBigSecretsMiB)
	return nil
}

// vaultOutage cuts Vault off, counts the requests that still arrive, restores
// it and measures how long until every object is Ready again.
func (s *scenario) vaultOutage(ctx context.Context, res *result) error {
	before := s.proxy.Counts()
	s.proxy.SetFault(testenv.Refuse)
	fmt.Printf("    Vault unreachable for %s...\n", s.cfg.outage)
	time.Sleep(s.cfg.outage)
	during := s.proxy.Counts()
	s.proxy.SetFault(testenv.Pass)
	back := time.Now()
	for k, v := range during {
		res.OutageVaultRequests += v - before[k]
	}
	res.OutageSeconds = s.cfg.outage.Seconds()
	if err := s.waitReady(ctx, 10*time.Minute); err != nil {
		return err
	}
	res.RecoverySeconds = round(time.Since(back).Seconds())
	fmt.Printf("    outage: %d requests reached the proxy in %s; all Ready again %.1fs after recovery\n", res.OutageVaultRequests, s.cfg.outage, res.RecoverySeconds)
	return nil
}

func (s *scenario) teardown() {
	s.operator.Stop()
	if s.proxy != nil {
		_ = s.proxy.Stop()
	}
	if s.env != nil {
		s.env.Stop()
		_ = os.RemoveAll(s.env.Dir)
	}
}

// cpuOf sums the CPU seconds of every process with that name.
func cpuOf(name string) float64 {
	var total float64
	for _, pid := range testenv.FindProcesses(name) {
		total += testenv.ProcessCPUSeconds(pid)
	}
	return total
}

func ns(i int) string { return fmt.Sprintf("bench-%02d", i) }

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, fn func(int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model := ""
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
			break
		}
	}
	return fmt.Sprintf("%d cores, %s", countCPUs(b), model)
}

func countCPUs(cpuinfo []byte) int { return strings.Count(string(cpuinfo), "processor\t:") }
