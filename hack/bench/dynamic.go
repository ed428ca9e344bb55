package main

import (
	"context"
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// dynamicResult is what the dynamic-secrets scenario reports. The lease TTL
// is scaled down (-lease-ttl) so that an hour of steady state fits in
// minutes; the per-hour figures are scaled back to a one-hour TTL.
type dynamicResult struct {
	N                        int     `json:"n"`
	LeaseTTLSeconds          float64 `json:"lease_ttl_seconds"`
	IssueAllReadySeconds     float64 `json:"issue_all_ready_seconds"`
	WindowSeconds            float64 `json:"steady_window_seconds"`
	RenewalsInWindow         int64   `json:"renewals_in_window"`
	VaultRequestsInWindow    int64   `json:"vault_requests_in_window"`
	IssuesInWindow           int64   `json:"issues_in_window"`
	LoginsInWindow           int64   `json:"logins_in_window"`
	TokenRenewalsInWindow    int64   `json:"token_renewals_in_window"`
	Login                    string  `json:"login"`
	RequestsPerHourAtTTL1h   float64 `json:"vault_requests_per_hour_at_ttl_1h"`
	MaxRenewalsSameSecond    int     `json:"max_renewals_planned_in_one_second"`
	RenewalSpreadSeconds     float64 `json:"renewal_spread_seconds"`
	LeasesHeldAtEnd          int     `json:"leases_held_at_end"`
	OperatorCPUSecondsWindow float64 `json:"operator_cpu_seconds_window"`
	OperatorRSSMiB           float64 `json:"operator_rss_mib"`
	Machine                  string  `json:"machine"`
}

// runDynamic creates n ExternalSecrets on database credentials from one
// ClusterGenerator, waits until all are Ready, then counts Vault requests
// over three lease TTLs of steady state and the leases Vault holds.
func runDynamic(ctx context.Context, c config, ttl time.Duration) (*dynamicResult, error) {
	s := &scenario{cfg: c, n: c.sizes[0], paths: 1}
	fmt.Printf("\n=== dynamic secrets: %d ExternalSecrets on database credentials, lease TTL %s (stands for 1h)\n", s.n, ttl)
	if err := s.setup(ctx); err != nil {
		s.teardown()
		return nil, err
	}
	defer s.teardown()
	res := &dynamicResult{N: s.n, LeaseTTLSeconds: ttl.Seconds(), Machine: machine(), Login: "root token"}
	if c.approle {
		res.Login = fmt.Sprintf("AppRole, token TTL %s", ttl/3)
	}
	if err := s.env.DatabaseRole(ctx, "bench", ttl, 24*ttl); err != nil {
		return nil, err
	}
	for _, step := range []func(context.Context, *result) error{s.seedVault, s.dynamicGeneratorFor(ttl), s.startOperator} {
		if err := step(ctx, &result{}); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if err := s.createDynamicES(ctx); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, 20*time.Minute); err != nil {
		return nil, err
	}
	res.IssueAllReadySeconds = round(time.Since(start).Seconds())
	fmt.Printf("    all %d Ready with a credential after %.1fs\n", s.n, res.IssueAllReadySeconds)
	if err := s.steadyState(ctx, res, 3*ttl); err != nil {
		return nil, err
	}
	held, err := leasesHeld(ctx, s.env, "database/creds/bench/")
	if err != nil {
		return nil, err
	}
	res.LeasesHeldAtEnd = held
	res.OperatorRSSMiB = round(s.operator.RSSMiB())
	fmt.Printf("    leases held in Vault at the end: %d (N=%d); operator RSS %.1f MiB\n", held, s.n, res.OperatorRSSMiB)
	return res, nil
}

// dynamicGeneratorFor creates the ClusterGenerator, logging in through the
// counting proxy with the root token, or by AppRole with tokens of a third of
// the lease TTL (-dynamic-approle).
func (s *scenario) dynamicGeneratorFor(ttl time.Duration) func(context.Context, *result) error {
	return func(ctx context.Context, _ *result) error {
		opNs := testenv.OperatorNamespace
		data := map[string]string{"token": s.env.Vault.Token}
		auth := v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "bench-token", Key: "token", Namespace: &opNs}}
		if s.cfg.approle {
			roleID, secretID, err := s.env.DynamicAppRole(ctx, "bench", ttl/3, 24*ttl)
			if err != nil {
				return err
			}
			data = map[string]string{"secret-id": secretID}
			auth = v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{Path: "approle", RoleID: &roleID,
				SecretRef: v1alpha1.SecretKeySelector{Name: "bench-token", Key: "secret-id", Namespace: &opNs}}}
		}
		if err := s.cl.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bench-token", Namespace: opNs},
			StringData: data}); err != nil {
			return err
		}
		return s.cl.Create(ctx, &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: "bench-db"},
			Spec: v1alpha1.ClusterGeneratorSpec{Kind: v1alpha1.GeneratorKindVaultDynamicSecret, Generator: v1alpha1.GeneratorSpec{
				VaultDynamicSecretSpec: &v1alpha1.VaultDynamicSecretSpec{Path: "database/creds/bench",
					Provider: &v1alpha1.VaultProvider{Server: s.proxy.Addr, Auth: auth}}}}})
	}
}

// createDynamicES creates the ExternalSecrets, each with its own credential.
func (s *scenario) createDynamicES(ctx context.Context) error {
	return parallel(ctx, s.cfg.workers, s.n, func(i int) error {
		es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("db-%d", i), Namespace: ns(i % s.cfg.namespaces)},
			Spec: v1alpha1.ExternalSecretSpec{
				SecretStoreRef:  v1alpha1.SecretStoreRef{Name: "vault", Kind: v1alpha1.SecretStoreKindCluster},
				RefreshInterval: &metav1.Duration{Duration: s.cfg.refresh},
				DataFrom: []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{
					GeneratorRef: &v1alpha1.GeneratorRef{Kind: v1alpha1.GeneratorKindCluster, Name: "bench-db"}}}}}}
		s.track.markCreated(es.Namespace+"/"+es.Name, time.Now())
		return s.cl.Create(ctx, es)
	})
}

// steadyState counts Vault requests over window and reads when each object
// plans its next renewal, to show that renewals do not come in bursts.
func (s *scenario) steadyState(ctx context.Context, res *dynamicResult, window time.Duration) error {
	before, cpu0, t0 := s.proxy.Counts(), s.operator.CPUSeconds(), time.Now()
	fmt.Printf("    steady state for %.0fs...\n", window.Seconds())
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(window):
	}
	after := s.proxy.Counts()
	res.WindowSeconds = round(time.Since(t0).Seconds())
	res.OperatorCPUSecondsWindow = round(s.operator.CPUSeconds() - cpu0)
	for k, v := range after {
		res.VaultRequestsInWindow += v - before[k]
	}
	res.RenewalsInWindow = after["lease-renew"] - before["lease-renew"]
	res.IssuesInWindow = after["read"] - before["read"]
	res.LoginsInWindow = after["login"] - before["login"]
	res.TokenRenewalsInWindow = after["renew"] - before["renew"]
	hours := res.WindowSeconds / 3600 * (time.Hour.Seconds() / res.LeaseTTLSeconds)
	res.RequestsPerHourAtTTL1h = round(float64(res.VaultRequestsInWindow) / hours)
	var err error
	res.MaxRenewalsSameSecond, res.RenewalSpreadSeconds, err = s.renewalSpread(ctx)
	fmt.Printf("    %d Vault requests in %.0fs (%d lease renewals, %d issues, %d logins, %d token renewals): %.0f per hour at a 1h TTL; at most %d renewals planned in one second, spread over %.0fs; operator CPU %.1fs\n",
		res.VaultRequestsInWindow, res.WindowSeconds, res.RenewalsInWindow, res.IssuesInWindow, res.LoginsInWindow, res.TokenRenewalsInWindow, res.RequestsPerHourAtTTL1h,
		res.MaxRenewalsSameSecond, res.RenewalSpreadSeconds, res.OperatorCPUSecondsWindow)
	return err
}

// renewalSpread reads every ExternalSecret's next renewal and returns the
// most renewals planned within one second, and the spread of all of them.
func (s *scenario) renewalSpread(ctx context.Context) (int, float64, error) {
	list := &v1alpha1.ExternalSecretList{}
	if err := s.cl.List(ctx, list); err != nil {
		return 0, 0, err
	}
	perSecond := map[int64]int{}
	lo, hi := int64(math.MaxInt64), int64(0)
	most := 0
	for _, es := range list.Items {
		for _, g := range es.Status.Generated {
			if g.NextRenewalTime == nil {
				continue
			}
			sec := g.NextRenewalTime.Unix()
			perSecond[sec]++
			most = max(most, perSecond[sec])
			lo, hi = min(lo, sec), max(hi, sec)
		}
	}
	if hi < lo {
		return most, 0, nil
	}
	return most, float64(hi - lo), nil
}

// leasesHeld counts the leases Vault holds under prefix (root token).
func leasesHeld(ctx context.Context, env *testenv.Env, prefix string) (int, error) {
	sec, err := env.VaultClient.Logical().ListWithContext(ctx, "sys/leases/lookup/"+prefix)
	if err != nil {
		return 0, fmt.Errorf("list leases: %w", err)
	}
	if sec == nil || sec.Data == nil {
		return 0, nil
	}
	keys, _ := sec.Data["keys"].([]any)
	return len(keys), nil
}
