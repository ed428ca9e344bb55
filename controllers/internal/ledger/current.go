package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/lease"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/providers"
)

// Event reasons of the lease lifecycle, as `kubectl describe` shows them.
const (
	// EventCredentialIssued: a new credential replaced the kept one.
	EventCredentialIssued = "CredentialIssued"
	// EventLeaseRenewalFailed: a renewal failed for a passing reason; the
	// credential stays.
	EventLeaseRenewalFailed = "LeaseRenewalFailed"
	// EventLeaseRevokeFailed: a revocation failed and is tried again, or
	// cannot be done (the generator is gone).
	EventLeaseRevokeFailed = "LeaseRevokeFailed"
)

// renewRetry is how soon a renewal that failed for a passing reason is tried
// again, at most: a quarter of the time the lease has left, if less.
const renewRetry = 30 * time.Second

// dynamicCall is one reconcile's use of a VaultDynamicSecret: the generator,
// its policy, and the provider client, built only when the server is needed.
type dynamicCall struct {
	lg  *Ledger
	es  *v1alpha1.ExternalSecret
	res *generator.Resolved
	pol lease.Policy
	now time.Time
	dc  providers.DynamicClient
	// tokenWhy says why the login token bounds the kept lease, for the
	// event of a credential it replaces; empty when it does not.
	tokenWhy string
}

// Current returns the entry of a VaultDynamicSecret generator: the kept
// credential while its lease is valid (renewed when due), or a newly issued
// one, the replaced lease retired for its grace period. kept and found are
// what the state held for this entry.
func (lg *Ledger) Current(ctx context.Context, es *v1alpha1.ExternalSecret, res *generator.Resolved, kept generatorstate.Entry, found bool) (generatorstate.Entry, error) {
	spec := res.Spec.VaultDynamicSecretSpec
	c := &dynamicCall{lg: lg, es: es, res: res, now: lg.Clock.Now(),
		pol: lease.Policy{RenewPercent: percentOr(spec.RenewPercent), RotatePercent: percentOr(spec.RotatePercent)}}
	st, action, why, err := c.plan(ctx, kept, found)
	if err != nil {
		return generatorstate.Entry{}, err
	}
	var entry generatorstate.Entry
	switch action {
	case lease.Keep:
		entry = kept
		entry.Rotation = st.Rotation
	case lease.Renew:
		entry, err = c.renew(ctx, kept)
	}
	if action == lease.Issue || errors.Is(err, providers.ErrLeaseGone) {
		if err != nil {
			why = "the server refused the renewal"
		}
		entry, err = c.issue(ctx, kept, found, why)
	}
	if err != nil {
		return generatorstate.Entry{}, err
	}
	entry.Retired = c.revokeRetired(ctx, entry.Retired)
	entry.NextRenewal = nextAction(entry)
	lg.leases.hold(lg.Metrics, es.UID, entry)
	return entry, nil
}

// plan decides what the kept credential needs now, and why: its lease as
// kept, bounded by the login token that owns it.
func (c *dynamicCall) plan(ctx context.Context, kept generatorstate.Entry, found bool) (lease.State, lease.Action, string, error) {
	current := found && kept.Hash == c.res.Hash && !kept.GeneratedAt.IsZero() && kept.Lease != nil
	st := lease.State{Current: current}
	if current {
		st = lease.State{Current: true, Renewable: kept.Lease.Renewable, Expires: kept.Lease.Expires,
			RenewAt: kept.Lease.RenewAt, Rotation: kept.Rotation}
		var err error
		if st, err = c.boundByToken(ctx, kept, st); err != nil {
			return st, lease.Keep, "", err
		}
	}
	action, why := lease.Decide(c.now, st)
	if action == lease.Issue && c.tokenWhy != "" && current && (kept.Rotation.IsZero() || c.now.Before(kept.Rotation)) {
		why = c.tokenWhy // the login token, not the lease, called for the new credential
	}
	return st, action, why, nil
}

// percentOr is a percentage from the spec, or the default two thirds when the
// API server did not default it (an object created before the default).
func percentOr(p int) int {
	if p <= 0 {
		return 67
	}
	return p
}

// client returns the provider's client for the generator, built on first use.
func (c *dynamicCall) client(ctx context.Context) (providers.DynamicClient, error) {
	if c.dc != nil {
		return c.dc, nil
	}
	dc, err := c.lg.dynamicClient(ctx, c.es.Namespace, c.res)
	if err != nil {
		return nil, err
	}
	c.dc = dc
	return dc, nil
}

// dynamicClient returns the provider client of a VaultDynamicSecret, through
// the same cache, token lifecycle and tenant rules as a store's: a namespaced
// generator is a SecretStore of its namespace, a ClusterGenerator a
// ClusterSecretStore. Their names hold a "/", which no store name can, so
// that they never share a real store's client.
func (lg *Ledger) dynamicClient(ctx context.Context, namespace string, res *generator.Resolved) (providers.DynamicClient, error) {
	spec := res.Spec.VaultDynamicSecretSpec
	storeSpec := v1alpha1.SecretStoreSpec{Controller: spec.Controller, Provider: v1alpha1.SecretStoreProvider{Vault: spec.Provider}}
	meta := metav1.ObjectMeta{Name: namespacedGeneratorStore + res.Name, Namespace: res.Namespace, UID: types.UID(res.Hash), Generation: 1}
	var store v1alpha1.GenericStore = &v1alpha1.SecretStore{ObjectMeta: meta, Spec: storeSpec}
	if res.Tenancy != nil {
		p, err := lg.tenantProvider(ctx, spec.Provider, res.Tenancy, namespace)
		if err != nil {
			return nil, outcome.FromProvider(fmt.Errorf("%s %q: %w", res.Kind, res.Name, err))
		}
		storeSpec.Provider.Vault = p
	}
	if res.Cluster() {
		meta.Name = clusterGeneratorStore + res.Name
		store = &v1alpha1.ClusterSecretStore{ObjectMeta: meta, Spec: storeSpec}
	}
	sc, err := lg.Provider.NewClient(ctx, store, lg.kube(), namespace)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", res.Kind, res.Name, err)
	}
	dc, ok := sc.(providers.DynamicClient)
	if !ok {
		return nil, outcome.Terminalf(v1alpha1.ReasonGeneratorFailed, "%s %q: the provider issues no dynamic secrets", res.Kind, res.Name)
	}
	return dc, nil
}

// renew extends the kept lease. A refusal (ErrLeaseGone) is returned for the
// caller to issue anew; any other failure keeps the credential, which is still
// valid, and tries again soon, with a Warning event.
func (c *dynamicCall) renew(ctx context.Context, kept generatorstate.Entry) (generatorstate.Entry, error) {
	l := *kept.Lease
	dc, err := c.client(ctx)
	var granted providers.Lease
	if err == nil {
		granted, err = dc.RenewLease(ctx, c.res.Spec.VaultDynamicSecretSpec.Path, l.ID, l.Increment)
	}
	if errors.Is(err, providers.ErrLeaseGone) {
		c.lg.Metrics.LeaseOperations.WithLabelValues("renew", "failed").Inc()
		return kept, err
	}
	if err != nil {
		c.lg.Metrics.LeaseOperations.WithLabelValues("renew", "failed").Inc()
		c.lg.Recorder.Eventf(c.es, nil, corev1.EventTypeWarning, EventLeaseRenewalFailed, "Renew",
			"%s %q: renewing lease %s failed, the credential stays until %s: %v", c.res.Kind, c.res.Name, l.ID,
			l.Expires.UTC().Format(time.RFC3339), err)
		logger(ctx).Info("Lease renewal failed; retrying", "generator", c.res.Name, "lease", l.ID, "error", err.Error())
		retry := min(renewRetry, l.Expires.Sub(c.now)/4)
		l.RenewAt = c.now.Add(max(retry, time.Second))
		kept.Lease = &l
		return kept, nil
	}
	c.lg.Metrics.LeaseOperations.WithLabelValues("renew", "ok").Inc()
	plan := lease.AfterRenew(c.now, l.IssueTime, l.Increment, granted.Duration, c.pol, rand.Float64()) //nolint:gosec // G404: jitter, not a secret
	l.Duration, l.Renewable, l.Expires, l.RenewAt = granted.Duration, granted.Renewable, plan.Expires, plan.RenewAt
	kept.Lease, kept.Rotation = &l, plan.Rotation
	logger(ctx).V(1).Info("Lease renewed", "generator", c.res.Name, "lease", l.ID, "ttl", granted.Duration.String())
	return kept, nil
}

// boundByToken bounds the kept lease by the login token that owns it: the
// server revokes the lease when that token ends. A token whose end is known
// (its max TTL) brings the rotation forward to RotatePercent of the lifetime
// the credential really has; a token this operator no longer keeps alive
// (after a restart, or refused) ends at a time nobody knows, so the lease is
// replaced now, before the token takes it down.
func (c *dynamicCall) boundByToken(ctx context.Context, kept generatorstate.Entry, st lease.State) (lease.State, error) {
	if kept.Lease.ID == "" && kept.Lease.Token == "" {
		return st, nil // no lease, no child token: nothing dies with the login token
	}
	dc, err := c.client(ctx)
	if err != nil {
		return st, err
	}
	end, held := dc.TokenEnd(ctx, kept.Lease.Token)
	if !held {
		st.Rotation = c.now
		c.tokenWhy = "the login token that owns the lease is not held by this operator (taken over without its custody record, or refused by the server), so it may end at any time"
		return st, nil
	}
	if !end.IsZero() {
		st = lease.BoundedBy(st, kept.Lease.IssueTime, end, c.pol, rand.Float64()) //nolint:gosec // G404: jitter, not a secret
		c.tokenWhy = fmt.Sprintf("the login token that owns the lease ends at %s (its max TTL, or not renewable)", end.UTC().Format(time.RFC3339))
	}
	return st, nil
}
