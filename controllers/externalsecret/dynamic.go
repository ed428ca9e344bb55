package externalsecret

import (
	"context"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/generator"
	"github.com/baosync/baosync/controllers/internal/generatorstate"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// issueDynamic returns the entry of a VaultDynamicSecret generator: the kept
// lease while it is valid (renewed when due), or a newly issued one. kept and
// found are what the state held for this entry.
//
// The lease lifecycle is not wired yet: a VaultDynamicSecret is refused with
// GeneratorFailed, so no credential is ever issued without its lease kept.
func (r *Reconciler) issueDynamic(_ context.Context, _ *v1alpha1.ExternalSecret, res *generator.Resolved, _ generatorstate.Entry, _ bool) (generatorstate.Entry, error) {
	return generatorstate.Entry{}, outcome.Terminalf(v1alpha1.ReasonGeneratorFailed,
		"VaultDynamicSecret %q: dynamic secrets are not served by this build yet", res.Name)
}

// releaseDynamic revokes the leases of state entries the ExternalSecret no
// longer uses. Entries without a lease need nothing.
func (r *Reconciler) releaseDynamic(_ context.Context, _ *v1alpha1.ExternalSecret, _ map[string]generatorstate.Entry) error {
	return nil
}
