// Package desired builds the Secret an ExternalSecret asks for: it reads every
// entry through the client of its store, runs its generators, renders its
// templates and checks the result against Kubernetes' rules. It writes no
// Secret; the ExternalSecret reconciler decides whether and how to apply what
// it returns, and `baosync render` prints it.
package desired

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/providers"
)

// Keeper keeps what generators make for an ExternalSecret: its generator state
// Secret and the leases of its dynamic secrets. The operator's is the lease
// ledger; a Builder without one previews.
type Keeper interface {
	// Load reads the object's kept state.
	Load(ctx context.Context, es *v1alpha1.ExternalSecret) (*generatorstate.State, error)
	// Current returns the entry's credential: the kept one while it is
	// current (renewed when due), otherwise a newly issued one.
	Current(ctx context.Context, es *v1alpha1.ExternalSecret, res *generator.Resolved, kept generatorstate.Entry, found bool) (generatorstate.Entry, error)
	// Release revokes what entries no longer generated held.
	Release(ctx context.Context, es *v1alpha1.ExternalSecret, gone map[string]generatorstate.Entry) error
	// Save writes the state when it changed.
	Save(ctx context.Context, st *generatorstate.State) error
}

// Builder builds desired Secrets. Every field but Keeper and MinRotation is
// required.
type Builder struct {
	// Cache reads the stores the operator caches.
	Cache client.Reader
	// Live reads what is not cached: stores missing from the cache,
	// generators, template ConfigMaps and Secrets, kept generator state.
	Live client.Reader
	// Provider opens a client for a store.
	Provider providers.Provider
	// Kube is the cluster view handed to the provider (auth material,
	// service account tokens).
	Kube providers.Kube
	// Scope is what this operator serves; stores and generators outside it
	// are refused.
	Scope scope.Served
	// Clock dates generated values.
	Clock clock.Clock
	// MinRotation is the shortest life of Password and UUID values
	// (0: DefaultMinGeneratorRotation).
	MinRotation time.Duration
	// Keeper keeps generated values and leases. Without one the Builder
	// previews: generators show the values kept for the object, or make
	// throwaway ones, no dynamic secret is issued, nothing is written or
	// released.
	Keeper Keeper
}

// Result is what Build made. Every field but Secret is set also when Build
// fails, since a failure may come after generator state was saved.
type Result struct {
	// Secret is the desired target Secret; nil when Build failed.
	Secret *corev1.Secret
	// Generated is status.generated for the kept state; meaningful only
	// when GeneratedKept.
	Generated []v1alpha1.GeneratedStatus
	// GeneratedKept reports that generator state was saved (or found
	// unchanged), so that Generated is what status must now say.
	GeneratedKept bool
	// Stores are the stores this build resolved.
	Stores *Stores
	// ReadAt is when the build finished reading its entries (zero when it
	// failed before): the change feed indexes the paths as read then.
	ReadAt time.Time
	// ThrottledOnly reports a failed build in which every failing entry only
	// waited for a store's request budget (providers.ErrThrottled: the
	// namespace's share, or the store's whole budget), and nothing else failed.
	ThrottledOnly bool
}

// ErrRemoteGone marks a build in which every referenced remote secret answered
// "not found": the one case in which deletionPolicy applies.
var ErrRemoteGone = errors.New("every referenced remote secret is gone")

// Build reads es's entries from store (the one Store resolved) and the stores
// its entries name, accepting values read within maxAge, and returns the
// desired Secret. Its errors carry a condition Reason (outcome errors), and
// wrap ErrRemoteGone when no referenced secret exists any more.
func (b *Builder) Build(ctx context.Context, es *v1alpha1.ExternalSecret, store v1alpha1.GenericStore, maxAge time.Duration) (*Result, error) {
	res := &Result{}
	values, err := b.fetch(ctx, store, es, maxAge, res)
	if err != nil {
		return res, err
	}
	out, err := b.applyTemplates(ctx, es, values)
	if err != nil {
		return res, err
	}
	res.Secret, err = desiredSecret(es, out)
	return res, err
}

// Reason returns the condition Reason a Build or Store error carries, or ""
// when it carries none.
func Reason(err error) string {
	var oe *outcome.Error
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return ""
}

// previewing reports a Builder without a Keeper.
func (b *Builder) previewing() bool { return b.Keeper == nil }

// now is the Builder's clock reading.
func (b *Builder) now() time.Time { return b.Clock.Now() }
