package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/outcome"
)

// Finalizer holds an ExternalSecret that keeps dynamic-secret leases
// until they are revoked. It is added before the first lease is issued and
// removed once every lease is revoked (or can no longer be).
const Finalizer = "baosync.io/revoke-leases"

// addLeaseFinalizer adds Finalizer unless it is there.
func (lg *Ledger) addLeaseFinalizer(ctx context.Context, es *v1alpha1.ExternalSecret) error {
	if controllerutil.ContainsFinalizer(es, Finalizer) {
		return nil
	}
	next := es.DeepCopy()
	controllerutil.AddFinalizer(next, Finalizer)
	if err := lg.Patch(ctx, next, client.MergeFromWithOptions(es, client.MergeFromWithOptimisticLock{})); err != nil {
		return outcome.FromKube("add the lease finalizer", err)
	}
	es.Finalizers = next.Finalizers // its resourceVersion stays: the status patch is computed from the object as read
	return nil
}

// Finalize revokes the leases of a deleted ExternalSecret and then lets it go.
// A revocation that fails is retried with backoff while any lease can still
// be used; a lease whose generator is gone cannot be revoked and is left to
// expire, with a Warning event.
func (lg *Ledger) Finalize(ctx context.Context, es *v1alpha1.ExternalSecret) outcome.Result {
	if !controllerutil.ContainsFinalizer(es, Finalizer) {
		return outcome.Next(0)
	}
	entries, err := lg.keptLeases(ctx, es)
	if err != nil {
		return outcome.Failed(err, 0)
	}
	if v1alpha1.KeepsOnDelete(es.Annotations, es.Finalizers) {
		// Handed back by the ESO-compatible mode, or deleted with
		// --cascade=orphan: the Secret stays, and so do the leases of the
		// credentials in it, until they expire; but only of the namespace's
		// own generators. A ClusterGenerator's leases are the admin's: its
		// revokeOnDelete decides, whatever a tenant's annotation says.
		logger(ctx).Info("Deleted keeping what it made: leases of the namespace's generators kept, not revoked")
		entries = clusterGeneratorEntries(entries)
	}
	if err := lg.Release(ctx, es, entries); err != nil {
		return outcome.Failed(err, 0)
	}
	next := es.DeepCopy()
	controllerutil.RemoveFinalizer(next, Finalizer)
	if err := lg.Patch(ctx, next, client.MergeFrom(es)); client.IgnoreNotFound(err) != nil {
		return outcome.Failed(fmt.Errorf("remove the lease finalizer: %w", err), 0)
	}
	lg.leases.dropOwner(lg.Metrics, es.UID)
	return outcome.Next(0)
}

// keptLeases returns the state entries of a deleted ExternalSecret. When the
// state Secret is already gone (a foreground deletion removes dependents
// first), status.generated still names each current lease and its generator.
func (lg *Ledger) keptLeases(ctx context.Context, es *v1alpha1.ExternalSecret) (map[string]generatorstate.Entry, error) {
	st, err := lg.Load(ctx, es)
	if err != nil {
		return nil, err
	}
	out := map[string]generatorstate.Entry{}
	for _, k := range st.Keys() {
		out[k], _ = st.Get(k)
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, g := range es.Status.Generated {
		if g.LeaseID != "" {
			out[generatorstate.Key(int(g.Index))] = generatorstate.Entry{Lease: &generator.Lease{ID: g.LeaseID,
				Ref: v1alpha1.GeneratorRef{Kind: g.Kind, Name: g.Name}}}
		}
	}
	return out, nil
}

// clusterGeneratorEntries keeps the entries whose leases a ClusterGenerator
// issued.
func clusterGeneratorEntries(entries map[string]generatorstate.Entry) map[string]generatorstate.Entry {
	out := map[string]generatorstate.Entry{}
	for k, e := range entries {
		if e.Lease != nil && e.Lease.Ref.Kind == v1alpha1.GeneratorKindCluster {
			out[k] = e
		}
	}
	return out
}

// Release revokes the leases of state entries the ExternalSecret no
// longer uses (or of all its entries, when it is deleted), current and
// retired, unless their generator says revokeOnDelete: false. Entries without
// a lease need nothing. It fails only while a lease that could not be revoked
// is still valid, so that it is tried again.
func (lg *Ledger) Release(ctx context.Context, es *v1alpha1.ExternalSecret, gone map[string]generatorstate.Entry) error {
	var errs []error
	for _, e := range gone {
		leases := make([]generator.Lease, 0, 1+len(e.Retired))
		if e.Lease != nil && e.Lease.ID != "" {
			leases = append(leases, *e.Lease)
		}
		for _, rt := range e.Retired {
			leases = append(leases, rt.Lease)
		}
		if len(leases) > 0 {
			errs = append(errs, lg.revokeAll(ctx, es, leases))
		}
	}
	return errors.Join(errs...)
}

// revokeAll revokes leases of one generator entry with that generator's
// client. A generator that no longer exists, or that keeps its leases, is
// reported and its leases are left to expire.
func (lg *Ledger) revokeAll(ctx context.Context, es *v1alpha1.ExternalSecret, leases []generator.Lease) error {
	now := lg.Clock.Now()
	ref := leases[0].Ref
	res, err := generator.Resolve(ctx, lg.APIReader, lg.Scope, es.Namespace, ref)
	if err != nil || res.Spec.VaultDynamicSecretSpec == nil {
		lg.Recorder.Eventf(es, nil, corev1.EventTypeWarning, EventLeaseRevokeFailed, "Revoke",
			"%s %q is gone or not a VaultDynamicSecret: lease %s is left to expire", ref.Kind, ref.Name, leases[0].ID)
		lg.leases.drop(lg.Metrics, leaseIDs(leases)...)
		return nil
	}
	c := &dynamicCall{lg: lg, es: es, res: res, now: now}
	if !revokes(res.Spec.VaultDynamicSecretSpec) {
		lg.leases.drop(lg.Metrics, leaseIDs(leases)...)
		return nil
	}
	var errs []error
	for _, l := range leases {
		expired := !l.Expires.IsZero() && !now.Before(l.Expires)
		if err := c.revoke(ctx, l); err != nil && !expired {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// leaseIDs lists the IDs of leases.
func leaseIDs(leases []generator.Lease) []string {
	ids := make([]string, len(leases))
	for i, l := range leases {
		ids[i] = l.ID
	}
	return ids
}

// Due is the earliest time a generated entry needs the operator again
// (a renewal, a rotation, the end of a grace period), from status; zero when
// none is planned.
func Due(es *v1alpha1.ExternalSecret) time.Time {
	var due time.Time
	for _, g := range es.Status.Generated {
		for _, t := range []*metav1.Time{g.NextRenewalTime, g.RotationTime} {
			if t != nil && (due.IsZero() || t.Time.Before(due)) {
				due = t.Time
			}
		}
	}
	return due
}

// Holds reports whether status names a lease of the ExternalSecret's.
func Holds(es *v1alpha1.ExternalSecret) bool {
	for _, g := range es.Status.Generated {
		if g.LeaseID != "" {
			return true
		}
	}
	return false
}

// EventLeaseRecordRejected is the Warning of a lease record that failed its
// seal.
const EventLeaseRecordRejected = "LeaseRecordRejected"

// Load reads the ExternalSecret's generator state, checking its lease
// records with the operator's key. A record that fails (edited, or copied from
// another object) is reported and ignored: its leases are neither renewed nor
// revoked by the operator, and the entry gets a new credential.
func (lg *Ledger) Load(ctx context.Context, es *v1alpha1.ExternalSecret) (*generatorstate.State, error) {
	st, err := generatorstate.Load(ctx, lg.APIReader, es, v1alpha1.GroupVersion.WithKind("ExternalSecret"), lg.LeaseKey)
	if err != nil {
		return nil, err
	}
	for _, k := range st.Rejected() {
		lg.Recorder.Eventf(es, nil, corev1.EventTypeWarning, EventLeaseRecordRejected, "Check",
			"the lease record of %s in Secret %q was not written by baosync for this ExternalSecret; its leases are neither renewed nor revoked, and a new credential is issued",
			k, generatorstate.Name("ExternalSecret", es))
		logger(ctx).Info("Lease record rejected: its seal does not match", "entry", k)
	}
	return st, nil
}

// Save writes the ExternalSecret's generator state when it changed.
func (lg *Ledger) Save(ctx context.Context, st *generatorstate.State) error {
	return st.Save(ctx, lg.Client)
}
