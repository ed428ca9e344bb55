package nslimit

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiters_OneBucketPerNamespaceForgottenWhenIdle(t *testing.T) {
	l := New(1, 2)
	now := time.Unix(1000, 0)
	a := l.Get("a", now)
	if l.Get("a", now) != a {
		t.Fatal("a namespace got a second bucket")
	}
	if !a.AllowN(now, 2) || a.AllowN(now, 1) {
		t.Fatal("the bucket does not hold its burst of 2")
	}
	for i := range 100 {
		l.Get(fmt.Sprint("ns-", i), now)
	}
	l.Get("late", now.Add(2*Idle))
	if l.Len() != 1 {
		t.Fatalf("%d buckets kept after everyone else was idle, want 1", l.Len())
	}
}
