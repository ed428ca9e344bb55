package lease

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestDecide_KeepsRenewsOrIssuesByTheLeaseTimes(t *testing.T) {
	live := State{Current: true, Renewable: true, Expires: at(30 * time.Second), RenewAt: at(20 * time.Second)}
	tests := []struct {
		name string
		now  time.Time
		s    State
		want Action
	}{
		{"no credential yet is issued", t0, State{}, Issue},
		{"a fresh lease is kept", at(5 * time.Second), live, Keep},
		{"a renewable lease at its renewal time is renewed", at(20 * time.Second), live, Renew},
		{"an expired lease is never kept, even if renewable", at(30 * time.Second), live, Issue},
		{"a lease that is not renewable is replaced at its renewal time", at(21 * time.Second),
			State{Current: true, Expires: at(30 * time.Second), RenewAt: at(20 * time.Second)}, Issue},
		{"a due rotation wins over a renewal", at(25 * time.Second),
			State{Current: true, Renewable: true, Expires: at(time.Minute), RenewAt: at(20 * time.Second), Rotation: at(25 * time.Second)}, Issue},
		{"without any time planned the credential is kept", at(time.Hour), State{Current: true}, Keep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := Decide(tt.now, tt.s); got != tt.want {
				t.Fatalf("Decide = %s (%s), want %s", got, why, tt.want)
			}
		})
	}
}

func TestAfterIssue_RenewsAtTheShareOfTheTTLWithEarlierJitter(t *testing.T) {
	p := Policy{RenewPercent: 67, RotatePercent: 67}
	tests := []struct {
		name                  string
		ttl                   time.Duration
		renewable             bool
		j                     float64
		wantRenew, wantRotate time.Duration
	}{
		{"renewable, no jitter: two thirds of an hour", time.Hour, true, 0, 40*time.Minute + 12*time.Second, 0},
		{"renewable, full jitter: a tenth earlier", time.Hour, true, 1, 36*time.Minute + 10*time.Second + 800*time.Millisecond, 0},
		{"not renewable: rotation instead", time.Hour, false, 0, 0, 40*time.Minute + 12*time.Second},
		{"no lease: nothing planned", 0, false, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := AfterIssue(t0, tt.ttl, tt.renewable, p, tt.j)
			if got := since(s.RenewAt); got != tt.wantRenew {
				t.Errorf("renew after %v, want %v", got, tt.wantRenew)
			}
			if got := since(s.Rotation); got != tt.wantRotate {
				t.Errorf("rotate after %v, want %v", got, tt.wantRotate)
			}
		})
	}
}

func since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return t.Sub(t0)
}

func TestAfterRenew_ReissuesOnceTheMaxTTLIsReached(t *testing.T) {
	p := Policy{RenewPercent: 67, RotatePercent: 67}
	tests := []struct {
		name           string
		now            time.Duration
		asked, granted time.Duration
		wantRenew      time.Duration
		wantRotate     time.Duration
	}{
		{"a full grant is renewed again at two thirds", 20 * time.Second, 30 * time.Second, 30 * time.Second, 40100 * time.Millisecond, 0},
		{"a capped grant late in life rotates at once", 80 * time.Second, 30 * time.Second, 10 * time.Second, 0, 80 * time.Second},
		{"a capped grant early in life rotates at two thirds of the lifetime", 20 * time.Second, time.Hour, 40 * time.Second, 0, 40200 * time.Millisecond},
		{"a zero grant rotates at once", 20 * time.Second, 30 * time.Second, 0, 0, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := AfterRenew(at(tt.now), t0, tt.asked, tt.granted, p, 0)
			if got := since(s.RenewAt); got != tt.wantRenew {
				t.Errorf("renew after %v, want %v", got, tt.wantRenew)
			}
			if got := since(s.Rotation); got != tt.wantRotate {
				t.Errorf("rotate after %v, want %v", got, tt.wantRotate)
			}
			if !s.Expires.Equal(at(tt.now + tt.granted)) {
				t.Errorf("expires %v, want %v", since(s.Expires), tt.now+tt.granted)
			}
		})
	}
}

func TestCertificate_RotatesAtTheShareOfItsValidity(t *testing.T) {
	s := Certificate(t0, at(90*time.Minute), Policy{RotatePercent: 67}, 0)
	if got := since(s.Rotation); got != 60*time.Minute+18*time.Second {
		t.Fatalf("rotation after %v", got)
	}
	if a, _ := Decide(at(61*time.Minute), s); a != Issue {
		t.Fatalf("at 61m: %s, want issue", a)
	}
}

func TestBoundedBy_TheOwningTokensEndBringsTheRotationForward(t *testing.T) {
	p := Policy{RenewPercent: 67, RotatePercent: 50}
	renewing := State{Current: true, Renewable: true, Expires: at(time.Hour), RenewAt: at(40 * time.Minute)}
	tests := []struct {
		name         string
		s            State
		tokenEnd     time.Time
		wantRotation time.Time
		wantExpires  time.Time
	}{
		{"no known end changes nothing", renewing, time.Time{}, time.Time{}, at(time.Hour)},
		{"a token ending before the lease rotates at the share of the token's life", renewing, at(10 * time.Minute),
			at(5 * time.Minute), at(10 * time.Minute)},
		{"an earlier planned rotation stays", State{Current: true, Expires: at(time.Hour), Rotation: at(time.Minute)}, at(10 * time.Minute),
			at(time.Minute), at(10 * time.Minute)},
		{"a token ending after the lease rotates by its share but expires with the lease", renewing, at(3 * time.Hour),
			at(90 * time.Minute), at(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BoundedBy(tt.s, t0, tt.tokenEnd, p, 0)
			if !got.Rotation.Equal(tt.wantRotation) || !got.Expires.Equal(tt.wantExpires) {
				t.Fatalf("BoundedBy = rotation %v expires %v, want %v and %v", got.Rotation, got.Expires, tt.wantRotation, tt.wantExpires)
			}
		})
	}
}
