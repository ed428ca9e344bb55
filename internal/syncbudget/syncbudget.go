// Package syncbudget gives each namespace a share of the operator's syncs, so
// that one namespace's objects cannot spend the operator's Kubernetes API
// budget (or the workers) that every namespace shares. A store's OpenBao/Vault
// requests have a per-namespace share of their own (providers/vault); this one
// also bounds objects that read no server, such as Password and UUID
// generators.
package syncbudget

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/baosync/baosync/internal/nslimit"
)

// tellEvery is how often a namespace's waits are reported (Take's tell): one
// event per namespace per period, not one per deferred sync, which would
// cost the API server a write for every sync it saved.
const tellEvery = time.Minute

// Budget is a token bucket of syncs per namespace. A nil Budget, or one with
// a rate of 0, admits everything.
type Budget struct {
	rate  rate.Limit
	syncs *nslimit.Limiters
	tells *nslimit.Limiters // one wait told per namespace per tellEvery
}

// New returns a Budget of perSecond syncs per namespace, with burst.
func New(perSecond float64, burst int) *Budget {
	return &Budget{rate: rate.Limit(perSecond), syncs: nslimit.New(rate.Limit(perSecond), burst),
		tells: nslimit.New(rate.Every(tellEvery), 1)}
}

// Take takes one sync of namespace's share at now, and returns 0; or, when
// the share is used up, takes nothing and returns how long to wait, and
// whether to tell (the namespace's first wait in tellEvery).
func (b *Budget) Take(namespace string, now time.Time) (wait time.Duration, tell bool) {
	if b == nil || b.rate <= 0 {
		return 0, false
	}
	r := b.syncs.Get(namespace, now).ReserveN(now, 1)
	if d := r.DelayFrom(now); !r.OK() || d > 0 {
		r.CancelAt(now)
		return max(d, time.Second/time.Duration(max(int(b.rate), 1))), b.tells.Get(namespace, now).AllowN(now, 1)
	}
	return 0, false
}

// Tell reports whether a wait of namespace's at now, for this budget or for
// another share (a store's requests), is to be told: the first in tellEvery,
// shared with Take's.
func (b *Budget) Tell(namespace string, now time.Time) bool {
	return b != nil && b.tells.Get(namespace, now).AllowN(now, 1)
}
