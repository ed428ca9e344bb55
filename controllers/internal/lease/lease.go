// Package lease decides what to do with the lease behind a dynamic secret:
// keep it, renew it, or issue a new credential, and when to look again. It is
// pure (times in, decisions out), so that every rule is a row of a table.
//
// The rules, after HashiCorp's Vault Secrets Operator:
//   - a renewable lease is renewed once RenewPercent of its TTL has passed,
//     a little earlier by a jitter of up to a tenth, so that leases issued
//     together do not come back together;
//   - a lease that is not renewable, or a certificate, is replaced once
//     RotatePercent of its lifetime has passed;
//   - when a renewal grants less than asked, the lease has reached its max
//     TTL: its whole lifetime is known, and a new credential is issued once
//     RotatePercent of it has passed (at once, if that is already past);
//   - a credential at or past its expiry is never kept.
package lease

import "time"

// Action is what the lease needs now.
type Action int

const (
	// Keep the current credential and lease.
	Keep Action = iota
	// Renew the lease.
	Renew
	// Issue a new credential (and retire the old lease).
	Issue
)

// String names the action for logs.
func (a Action) String() string {
	switch a {
	case Renew:
		return "renew"
	case Issue:
		return "issue"
	}
	return "keep"
}

// Policy holds a generator's lease settings.
type Policy struct {
	// RenewPercent of the TTL after which a renewable lease is renewed.
	RenewPercent int
	// RotatePercent of the lifetime after which a new credential is issued.
	RotatePercent int
}

// State is the kept credential's lease as far as the decision needs it.
type State struct {
	// Current says a credential is kept and was made by the generator as it
	// is now (same spec).
	Current bool
	// Renewable says the lease may be renewed.
	Renewable bool
	// Expires is when the current grant ends; zero when unknown (no lease).
	Expires time.Time
	// RenewAt is when the lease is due for renewal; zero for none.
	RenewAt time.Time
	// Rotation is when a new credential is due; zero for none planned.
	Rotation time.Time
}

// Decide says what the lease needs at now, and why (for logs and events).
func Decide(now time.Time, s State) (Action, string) {
	switch {
	case !s.Current:
		return Issue, "no current credential"
	case !s.Expires.IsZero() && !now.Before(s.Expires):
		return Issue, "the lease expired"
	case !s.Rotation.IsZero() && !now.Before(s.Rotation):
		return Issue, "rotation is due"
	case !s.RenewAt.IsZero() && !now.Before(s.RenewAt):
		if s.Renewable {
			return Renew, "renewal is due"
		}
		return Issue, "the lease is not renewable"
	}
	return Keep, ""
}

// Earliest returns the earliest non-zero time, or zero.
func Earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// share is pct percent of d, made earlier by up to a tenth with jitter j in
// [0, 1).
func share(d time.Duration, pct int, j float64) time.Duration {
	base := d * time.Duration(pct) / 100
	return base - time.Duration(float64(base)/10*clamp(j))
}

// clamp keeps j in [0, 1].
func clamp(j float64) float64 {
	if j < 0 {
		return 0
	}
	if j > 1 {
		return 1
	}
	return j
}

// AfterIssue plans a lease granted ttl at now: a renewable one is renewed at
// RenewPercent of ttl; any other with a TTL is replaced at RotatePercent of
// it. A ttl of 0 (no lease) plans nothing.
func AfterIssue(now time.Time, ttl time.Duration, renewable bool, p Policy, j float64) State {
	s := State{Current: true, Renewable: renewable}
	if ttl <= 0 {
		return s
	}
	s.Expires = now.Add(ttl)
	if renewable {
		s.RenewAt = now.Add(share(ttl, p.RenewPercent, j))
	} else {
		s.Rotation = now.Add(share(ttl, p.RotatePercent, j))
	}
	return s
}

// AfterRenew plans a lease issued at issued, renewed at now for asked and
// granted granted. A grant below what was asked means the max TTL was reached:
// the credential is replaced at RotatePercent of its whole lifetime, at the
// latest, or at once when that time has passed.
func AfterRenew(now, issued time.Time, asked, granted time.Duration, p Policy, j float64) State {
	s := State{Current: true, Renewable: true, Expires: now.Add(granted)}
	if granted <= 0 {
		s.Rotation = now
		return s
	}
	if granted < asked {
		lifetime := s.Expires.Sub(issued)
		s.Rotation = issued.Add(share(lifetime, p.RotatePercent, j))
		if s.Rotation.Before(now) {
			s.Rotation = now
		}
		return s
	}
	s.RenewAt = now.Add(share(granted, p.RenewPercent, j))
	return s
}

// Certificate plans a certificate valid from notBefore to notAfter: it is
// replaced at RotatePercent of its validity, and expires at notAfter.
func Certificate(notBefore, notAfter time.Time, p Policy, j float64) State {
	return State{Current: true, Expires: notAfter,
		Rotation: notBefore.Add(share(notAfter.Sub(notBefore), p.RotatePercent, j))}
}

// BoundedBy bounds a plan by the end of the login token that owns its lease,
// issued at issued: the server revokes the lease with the token, so the
// credential's lifetime ends there at the latest. It is replaced at
// RotatePercent of that lifetime (at once, when that is past), as a lease
// at its own max TTL is, and is never kept past the token's end.
func BoundedBy(s State, issued, tokenEnd time.Time, p Policy, j float64) State {
	if tokenEnd.IsZero() {
		return s
	}
	by := issued.Add(share(tokenEnd.Sub(issued), p.RotatePercent, j))
	s.Rotation = Earliest(s.Rotation, by)
	s.Expires = Earliest(s.Expires, tokenEnd)
	return s
}
