package vault

import (
	"testing"
	"time"
)

func TestLoginToken_ItsEndAndWhetherALeaseMayBeIssuedUnderIt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	renewable := func() *loginToken { return newLoginToken("tok", "acc", time.Minute, true, t0) }
	tests := []struct {
		name        string
		token       func() *loginToken
		now         time.Time
		wantEnd     time.Time
		leaseWorthy bool
	}{
		{"a renewable token has no known end", renewable, at(50 * time.Second), time.Time{}, true},
		{"a grant shorter than the TTL shows the max TTL", func() *loginToken {
			tk := renewable()
			tk.granted(at(30*time.Second), 20*time.Second, true)
			return tk
		}, at(30 * time.Second), at(50 * time.Second), false},
		{"a token that cannot be renewed ends with its grant", func() *loginToken {
			return newLoginToken("tok", "acc", time.Minute, false, t0)
		}, at(20 * time.Second), at(time.Minute), true},
		{"and takes no new lease in the second half of its life", func() *loginToken {
			return newLoginToken("tok", "acc", time.Minute, false, t0)
		}, at(40 * time.Second), at(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tt.token()
			if got := tk.knownEnd(); !got.Equal(tt.wantEnd) {
				t.Fatalf("knownEnd = %v, want %v", got, tt.wantEnd)
			}
			if got := tk.leaseWorthy(tt.now); got != tt.leaseWorthy {
				t.Fatalf("leaseWorthy = %v, want %v", got, tt.leaseWorthy)
			}
		})
	}
}

func TestTokenID_IdentifiesABatchTokenWithoutAnAccessorToo(t *testing.T) {
	batch := "hvb.batch"
	if id := tokenID(batch, ""); id == "" || id != tokenID(batch, "") {
		t.Fatal("a token without an accessor has no stable ID")
	}
	if tokenID("a", "") == tokenID("b", "") || tokenID("x", "acc") == tokenID("y", "acc2") {
		t.Fatal("two tokens share an ID")
	}
	if tokenID("x", "acc") != tokenID("y", "acc") {
		t.Fatal("a token is not identified by its accessor")
	}
}
