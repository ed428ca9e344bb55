// Package ledger owns the leases of dynamic secrets for the ExternalSecret
// reconciler: what a VaultDynamicSecret entry currently holds (kept, renewed,
// or issued anew, its login token's end included), what an ExternalSecret no
// longer uses (revoked once its grace period ends), and what its deletion
// releases, behind the finalizer it adds before the first lease. The sync loop
// asks it for a current credential (Current) and tells it what is gone
// (Release, Finalize); nothing else renews or revokes a lease.
//
// Its records live in the generator state Secret (generatorstate), sealed
// with the operator's key (Load); the pure decisions are package lease's; the
// login tokens that own the leases are held by the provider (providers/vault
// custody), which wakes their users through the generators GeneratorOf names.
package ledger

import (
	"context"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/kubeaccess"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/providers"
)

// Ledger is the lease ledger of one operator. Its fields are its
// dependencies, all required; the tracker of held leases is its own.
type Ledger struct {
	// Client patches the ExternalSecret's lease finalizer.
	client.Client
	// APIReader reads generators and state Secrets uncached.
	APIReader client.Reader
	Provider  providers.Provider
	Recorder  recorder.EventRecorder
	Metrics   *metrics.Metrics
	Clock     clock.Clock
	// Scope is what this operator serves (generators of its class).
	Scope scope.Served
	// LeaseKey seals the lease records (operatorkey.Key); without it no
	// record is trusted or written.
	LeaseKey generatorstate.Sealer

	leases leaseTracker
}

// kube is the narrow cluster view the provider's auth needs.
func (lg *Ledger) kube() providers.Kube {
	return &kubeaccess.Access{Reader: lg.APIReader, Writer: lg.Client, Namespaces: lg.Client}
}

// logger is the reconcile's logger.
func logger(ctx context.Context) logr.Logger { return ctrl.LoggerFrom(ctx) }
