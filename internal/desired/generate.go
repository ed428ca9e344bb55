package desired

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/outcome"
)

// generatorRun is the generator side of one fetch: the owner's kept state,
// loaded on the first generator entry and saved once at the end, before any
// value reaches the target Secret.
type generatorRun struct {
	b      *Builder
	es     *v1alpha1.ExternalSecret
	state  *generatorstate.State
	status []v1alpha1.GeneratedStatus
}

// values returns the values of dataFrom entry i, a generatorRef: the kept
// ones while they are current, otherwise new ones. Rewrite applies as to an
// extract.
func (g *generatorRun) values(ctx context.Context, i int, df v1alpha1.ExternalSecretDataFromRemoteRef) (map[string][]byte, error) {
	m, err := g.entry(ctx, i, df)
	if err != nil {
		// The kept values are untouched, and so is what status says of them.
		for _, st := range g.es.Status.Generated {
			if int(st.Index) == i {
				g.status = append(g.status, st)
			}
		}
	}
	return m, err
}

// entry is values without the status bookkeeping of a failure.
func (g *generatorRun) entry(ctx context.Context, i int, df v1alpha1.ExternalSecretDataFromRemoteRef) (map[string][]byte, error) {
	if df.SourceRef == nil || df.SourceRef.GeneratorRef == nil {
		return nil, fmt.Errorf("dataFrom[%d].sourceRef has no generatorRef", i)
	}
	ref := *df.SourceRef.GeneratorRef
	res, err := generator.Resolve(ctx, g.b.Live, g.b.Scope, g.es.Namespace, ref)
	if err != nil {
		return nil, err
	}
	if g.state == nil {
		if g.state, err = g.load(ctx); err != nil {
			return nil, err
		}
	}
	key := generatorstate.Key(i)
	kept, found := g.state.Get(key)
	var entry generatorstate.Entry
	gen, static, err := generator.Static(res)
	switch {
	case err != nil:
		return nil, err
	case static:
		entry, err = g.static(ctx, gen, res, kept, found)
	case g.b.previewing() && found:
		entry = kept // render shows the kept credential and issues none
	case g.b.previewing():
		err = outcome.Terminalf(v1alpha1.ReasonGeneratorFailed,
			"%s %q: baosync render does not issue dynamic secrets, and none is kept for this ExternalSecret yet", res.Kind, res.Name)
	default:
		entry, err = g.b.Keeper.Current(ctx, g.es, res, kept, found)
	}
	if err != nil {
		return nil, err
	}
	g.state.Set(key, entry)
	g.status = append(g.status, generatedStatus(i, ref, entry))
	m := make(map[string][]byte, len(entry.Values))
	for k, v := range entry.Values {
		m[k] = v
	}
	return rewrite(m, df.Rewrite)
}

// static keeps a Password's or UUID's values, or generates new ones when there
// are none, the generator changed, or rotation is due.
func (g *generatorRun) static(ctx context.Context, gen generator.Generator, res *generator.Resolved, kept generatorstate.Entry, found bool) (generatorstate.Entry, error) {
	now := g.b.now()
	// The rotation follows the ExternalSecret's current policy and interval,
	// not the ones in force when the values were made.
	if rot := rotationOf(g.es, kept.GeneratedAt, g.b.minRotation()); found && len(kept.Values) > 0 && kept.Hash == res.Hash && (rot.IsZero() || now.Before(rot)) {
		kept.Rotation = rot
		return kept, nil
	}
	values, err := gen.Generate(ctx)
	if err != nil {
		return generatorstate.Entry{}, err
	}
	return generatorstate.Entry{Values: values, Hash: res.Hash, GeneratedAt: now.UTC(),
		Rotation: rotationOf(g.es, now.UTC(), g.b.minRotation())}, nil
}

// rotationOf is when values generated at t are due for replacement: with
// refreshPolicy Periodic and a refreshInterval above 0, one interval later (as
// ESO, which generates on every refresh), but never sooner than floor;
// otherwise never, until the generator changes.
func rotationOf(es *v1alpha1.ExternalSecret, t time.Time, floor time.Duration) time.Time {
	policy, interval := es.Spec.RefreshPolicy, es.EffectiveRefreshInterval()
	if (policy == "" || policy == v1alpha1.RefreshPolicyPeriodic) && interval > 0 {
		return t.Add(max(interval, floor))
	}
	return time.Time{}
}

// DefaultMinGeneratorRotation is the shortest life of a Password's or UUID's
// values under refreshPolicy Periodic (--min-generator-rotation): a shorter
// refreshInterval still re-reads the ExternalSecret's remote entries, but new
// values are made at most this often, so that objects at refreshInterval 1s
// do not write a Secret (and its generator state) every second.
const DefaultMinGeneratorRotation = time.Minute

// minRotation is the Builder's floor of generated values' life.
func (b *Builder) minRotation() time.Duration {
	if b.MinRotation > 0 {
		return b.MinRotation
	}
	return DefaultMinGeneratorRotation
}

// finish drops the state of entries that are no longer generator entries,
// releases what they held, writes the state when it changed and records the
// generated status. It runs before the target Secret is written, so that no
// value is ever served that is not kept.
func (g *generatorRun) finish(ctx context.Context, res *Result) error {
	if g.b.previewing() {
		return nil // a preview writes nothing and releases nothing
	}
	if g.state == nil {
		if len(g.es.Status.Generated) == 0 {
			return nil
		}
		// No generator entry left: look for kept state to release.
		var err error
		if g.state, err = g.load(ctx); err != nil {
			return err
		}
	}
	used := map[string]bool{}
	for i, df := range g.es.Spec.DataFrom {
		if df.Generated() {
			used[generatorstate.Key(i)] = true
		}
	}
	gone := g.state.Prune(func(k string) bool { return used[k] })
	if err := g.b.Keeper.Release(ctx, g.es, gone); err != nil {
		return err
	}
	if err := g.b.Keeper.Save(ctx, g.state); err != nil {
		return err
	}
	res.Generated, res.GeneratedKept = g.status, true
	return nil
}

// load reads the kept state: through the Keeper, which checks lease records
// with the operator's key, or in a preview straight from the cluster, where
// no record is trusted (none is renewed or revoked either).
func (g *generatorRun) load(ctx context.Context) (*generatorstate.State, error) {
	if g.b.previewing() {
		return generatorstate.Load(ctx, g.b.Live, g.es, v1alpha1.GroupVersion.WithKind("ExternalSecret"), nil)
	}
	return g.b.Keeper.Load(ctx, g.es)
}

// generatedStatus describes an entry for status.generated, without its values.
func generatedStatus(i int, ref v1alpha1.GeneratorRef, e generatorstate.Entry) v1alpha1.GeneratedStatus {
	st := v1alpha1.GeneratedStatus{Index: int32(i), Kind: ref.Kind, Name: ref.Name, //nolint:gosec // G115: dataFrom has at most 64 entries (MaxItems)
		GeneratedTime: timeOrNil(e.GeneratedAt), RotationTime: timeOrNil(e.Rotation)}
	if e.Lease != nil {
		st.LeaseID, st.Renewable = e.Lease.ID, e.Lease.Renewable
		st.LeaseDuration = &metav1.Duration{Duration: e.Lease.Duration}
		st.IssueTime = timeOrNil(e.Lease.IssueTime)
		st.NextRenewalTime = timeOrNil(e.NextRenewal)
	}
	return st
}

// timeOrNil is a status timestamp, or nil for the zero time.
func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t)
	return &mt
}
