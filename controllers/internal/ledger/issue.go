package ledger

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/lease"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/providers"
)

// defaultGrace is how long a replaced lease stays valid when the generator
// does not say (the API's default too).
const defaultGrace = 5 * time.Minute

// issue asks the server for a new credential and plans its lease. The lease it
// replaces, if any, is retired: revoked once the grace period ends, so that
// workloads restarted onto the new credential never see the old one vanish
// under them. The ExternalSecret gets the finalizer that revokes its leases
// before the request, so that no lease is ever issued that its deletion would
// leave behind.
func (c *dynamicCall) issue(ctx context.Context, kept generatorstate.Entry, found bool, why string) (generatorstate.Entry, error) {
	spec := c.res.Spec.VaultDynamicSecretSpec
	if revokes(spec) {
		if err := c.lg.addLeaseFinalizer(ctx, c.es); err != nil {
			return generatorstate.Entry{}, err
		}
	}
	params, err := paramsOf(spec)
	if err != nil {
		return generatorstate.Entry{}, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "%s %q: %v", c.res.Kind, c.res.Name, err)
	}
	dc, err := c.client(ctx)
	if err != nil {
		return generatorstate.Entry{}, err
	}
	ds, err := dc.Generate(ctx, providers.DynamicRequest{Path: spec.Path, Method: spec.Method,
		Params: params, Query: spec.GetParameters, Result: string(spec.ResultType)})
	if err != nil {
		c.lg.Metrics.LeaseOperations.WithLabelValues("issue", "failed").Inc()
		return generatorstate.Entry{}, fmt.Errorf("%s %q: %w", c.res.Kind, c.res.Name, err)
	}
	if len(ds.Values) == 0 && !spec.AllowEmptyResponse {
		return generatorstate.Entry{}, outcome.Terminalf(v1alpha1.ReasonGeneratorFailed,
			"%s %q: %s answered no values; check the path and resultType, or set allowEmptyResponse", c.res.Kind, c.res.Name, spec.Path)
	}
	c.lg.Metrics.LeaseOperations.WithLabelValues("issue", "ok").Inc()
	entry := c.planned(ds)
	if found && kept.Lease != nil {
		entry.Retired = append(kept.Retired, c.retire(*kept.Lease))
		for i := range len(entry.Retired) - generatorstate.MaxRetired {
			entry.Retired[i].RevokeAt = c.now // rotations faster than the grace period: the oldest go at once
		}
		c.lg.Recorder.Eventf(c.es, nil, corev1.EventTypeNormal, EventCredentialIssued, "Rotate",
			"%s %q: new credential issued (%s); lease %s replaces %s", c.res.Kind, c.res.Name, why, ds.Lease.ID, kept.Lease.ID)
	}
	logger(ctx).Info("Dynamic secret issued", "generator", c.res.Name, "lease", ds.Lease.ID, "ttl", ds.Lease.Duration.String(), "why", why)
	c.warnShortToken(ctx, ds.Lease)
	return entry, nil
}

// EventLoginTokenShorterThanLease warns that the login token that issued a
// credential ends before its lease, so that the credential is issued anew
// at every token's end: custody cannot keep it.
const EventLoginTokenShorterThanLease = "LoginTokenShorterThanLease"

// warnShortToken reports a credential whose login token ends before its
// lease would, with what to change.
func (c *dynamicCall) warnShortToken(ctx context.Context, l providers.Lease) {
	if l.TokenEnd.IsZero() || l.Duration <= 0 || !l.TokenEnd.Before(c.now.Add(l.Duration)) {
		return
	}
	c.lg.Recorder.Eventf(c.es, nil, corev1.EventTypeWarning, EventLoginTokenShorterThanLease, "Issue",
		"%s %q: the login token that issued lease %s ends at %s, before the lease's %s: the credential is issued anew before each token's end; "+
			"give the generator's auth role renewable tokens with a token_max_ttl at least the lease's max_ttl",
		c.res.Kind, c.res.Name, l.ID, l.TokenEnd.UTC().Format(time.RFC3339), l.Duration)
	logger(ctx).Info("Login token ends before the lease it issued", "generator", c.res.Name, "lease", l.ID)
}

// planned is the state entry of a fresh credential: its lease, its renewal
// and its rotation, a certificate's read from the certificate itself.
func (c *dynamicCall) planned(ds *providers.DynamicSecret) generatorstate.Entry {
	j := rand.Float64() //nolint:gosec // G404: jitter, not a secret
	renewable := ds.Lease.Renewable && ds.Lease.ID != ""
	plan := lease.AfterIssue(c.now, ds.Lease.Duration, renewable, c.pol, j)
	if nb, na, ok := certificateValidity(ds.Values["certificate"]); ok {
		plan = lease.Certificate(nb, na, c.pol, j)
		renewable = false // the lease of a certificate adds nothing: the certificate expires
	}
	if !ds.Lease.TokenEnd.IsZero() {
		plan = lease.BoundedBy(plan, c.now, ds.Lease.TokenEnd, c.pol, j)
	}
	l := &generator.Lease{ID: ds.Lease.ID, Duration: ds.Lease.Duration, Renewable: renewable, IssueTime: c.now.UTC(),
		Expires: plan.Expires, Increment: ds.Lease.Duration, RenewAt: plan.RenewAt, Path: c.res.Spec.VaultDynamicSecretSpec.Path,
		Ref: v1alpha1.GeneratorRef{Kind: refKind(c.res), Name: c.res.Name}, Token: ds.Lease.Token}
	return generatorstate.Entry{Values: ds.Values, Hash: c.res.Hash, GeneratedAt: c.now.UTC().Truncate(time.Second),
		Lease: l, Rotation: plan.Rotation}
}

// refKind is the kind a generatorRef names the generator by.
func refKind(res *generator.Resolved) string {
	if res.Cluster() {
		return v1alpha1.GeneratorKindCluster
	}
	return string(res.Kind)
}

// retire schedules the revocation of a replaced lease after the grace period,
// never later than its own expiry.
func (c *dynamicCall) retire(old generator.Lease) generatorstate.Retired {
	grace := defaultGrace
	if g := c.res.Spec.VaultDynamicSecretSpec.RotationGracePeriod; g != nil {
		grace = g.Duration
	}
	at := c.now.Add(grace)
	if !old.Expires.IsZero() && old.Expires.Before(at) {
		at = old.Expires
	}
	return generatorstate.Retired{Lease: old, RevokeAt: at}
}

// revokeRetired revokes the retired leases whose grace period ended and
// returns those still waiting. A lease past its expiry is gone by itself; a
// revocation that fails is tried again at the next reconcile.
func (c *dynamicCall) revokeRetired(ctx context.Context, retired []generatorstate.Retired) []generatorstate.Retired {
	var left []generatorstate.Retired
	for _, rt := range retired {
		expired := !rt.Lease.Expires.IsZero() && !c.now.Before(rt.Lease.Expires)
		switch {
		case rt.Lease.ID == "" || expired || !revokes(c.res.Spec.VaultDynamicSecretSpec):
			c.lg.leases.drop(c.lg.Metrics, rt.Lease.ID)
		case c.now.Before(rt.RevokeAt):
			left = append(left, rt)
		default:
			if c.revoke(ctx, rt.Lease) != nil {
				left = append(left, rt)
			}
		}
	}
	if over := len(left) - generatorstate.MaxRetired; over > 0 {
		// Revocations keep failing: the oldest are left to expire, so that
		// the record stays within what a sealed record may hold.
		c.lg.leases.drop(c.lg.Metrics, leaseIDs(retiredLeases(left[:over]))...)
		left = left[over:]
	}
	return left
}

// retiredLeases lists the leases of retired entries.
func retiredLeases(rs []generatorstate.Retired) []generator.Lease {
	out := make([]generator.Lease, len(rs))
	for i, rt := range rs {
		out[i] = rt.Lease
	}
	return out
}

// revoke revokes one lease with the generator's client, on the path that
// issued it: the sealed record's (the generator's path may have changed
// since), or the generator's own for a record without one (the status
// fallback of leaseRelease).
func (c *dynamicCall) revoke(ctx context.Context, l generator.Lease) error {
	path := l.Path
	if path == "" {
		path = c.res.Spec.VaultDynamicSecretSpec.Path
	}
	dc, err := c.client(ctx)
	if err == nil {
		err = dc.RevokeLease(ctx, path, l.ID)
	}
	if err != nil {
		c.lg.Metrics.LeaseOperations.WithLabelValues("revoke", "failed").Inc()
		c.lg.Recorder.Eventf(c.es, nil, corev1.EventTypeWarning, EventLeaseRevokeFailed, "Revoke",
			"%s %q: revoking lease %s failed; it is tried again: %v", c.res.Kind, c.res.Name, l.ID, err)
		return err
	}
	c.lg.Metrics.LeaseOperations.WithLabelValues("revoke", "ok").Inc()
	c.lg.leases.drop(c.lg.Metrics, l.ID)
	logger(ctx).Info("Lease revoked", "generator", c.res.Name, "lease", l.ID)
	return nil
}

// nextAction is when the entry needs the server next: its renewal, or the end
// of a retired lease's grace period. Rotation is scheduled on its own.
func nextAction(e generatorstate.Entry) time.Time {
	var ts []time.Time
	if e.Lease != nil {
		ts = append(ts, e.Lease.RenewAt)
	}
	for _, rt := range e.Retired {
		ts = append(ts, rt.RevokeAt)
	}
	return lease.Earliest(ts...)
}

// revokes reports whether the generator's leases are revoked when no longer
// used (revokeOnDelete, default true).
func revokes(spec *v1alpha1.VaultDynamicSecretSpec) bool {
	return spec.RevokeOnDelete == nil || *spec.RevokeOnDelete
}

// paramsOf decodes the generator's parameters: the API server checked that
// they are JSON, but only an object is a request body.
func paramsOf(spec *v1alpha1.VaultDynamicSecretSpec) (map[string]any, error) {
	if spec.Parameters == nil || len(spec.Parameters.Raw) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(spec.Parameters.Raw, &m); err != nil {
		return nil, fmt.Errorf("spec.parameters must be a JSON object of request fields: %w", err)
	}
	return m, nil
}

// certificateValidity reads NotBefore and NotAfter of the first certificate
// in PEM; ok is false when there is none.
func certificateValidity(pemBytes []byte) (notBefore, notAfter time.Time, ok bool) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return time.Time{}, time.Time{}, false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !cert.NotAfter.After(cert.NotBefore) {
		return time.Time{}, time.Time{}, false
	}
	return cert.NotBefore, cert.NotAfter, true
}
