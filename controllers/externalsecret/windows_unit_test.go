package externalsecret

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestWindowWait(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	win := func(schedule string, d time.Duration) v1alpha1.SyncWindow {
		return v1alpha1.SyncWindow{Schedule: schedule, Duration: metav1.Duration{Duration: d}}
	}
	nightly := []v1alpha1.SyncWindow{win("0 22 * * *", 8*time.Hour)} // 22:00 to 06:00 UTC
	cases := []struct {
		name string
		kind v1alpha1.SyncWindowKind
		ws   []v1alpha1.SyncWindow
		now  string
		want time.Duration
		err  bool
	}{
		{name: "allow: inside the window a refresh runs", kind: v1alpha1.SyncWindowAllow, ws: nightly, now: "2026-12-06T23:00:00Z"},
		{name: "allow: after midnight the window of the evening before is still open", kind: v1alpha1.SyncWindowAllow, ws: nightly, now: "2026-12-07T05:59:00Z"},
		{name: "allow: outside, it waits for the next opening", kind: v1alpha1.SyncWindowAllow, ws: nightly, now: "2026-12-06T12:00:00Z", want: 10 * time.Hour},
		{name: "deny: a freeze holds refreshes until it ends", kind: v1alpha1.SyncWindowDeny, ws: nightly, now: "2026-12-06T23:00:00Z", want: 7 * time.Hour},
		{name: "deny: outside a freeze a refresh runs", kind: v1alpha1.SyncWindowDeny, ws: nightly, now: "2026-12-06T12:00:00Z"},
		{name: "deny: overlapping freezes hold until the last one ends", kind: v1alpha1.SyncWindowDeny,
			ws: []v1alpha1.SyncWindow{win("0 22 * * *", 8*time.Hour), win("0 5 * * *", 2*time.Hour)}, now: "2026-12-06T23:00:00Z", want: 8 * time.Hour},
		{name: "weekdays only: Saturday waits for Monday", kind: v1alpha1.SyncWindowAllow,
			ws: []v1alpha1.SyncWindow{win("0 9 * * 1-5", 8*time.Hour)}, now: "2026-12-05T12:00:00Z", want: 45 * time.Hour}, // Sat 12:00 -> Mon 09:00
		{name: "a shorthand is a schedule", kind: v1alpha1.SyncWindowAllow, ws: []v1alpha1.SyncWindow{win("@daily", time.Hour)}, now: "2026-12-06T00:30:00Z"},
		{name: "an invalid schedule is an error", kind: v1alpha1.SyncWindowAllow, ws: []v1alpha1.SyncWindow{win("61 * * * *", time.Hour)}, now: "2026-12-06T00:30:00Z", err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := windowWait(&v1alpha1.SyncWindows{Kind: c.kind, Windows: c.ws}, at(c.now))
			if (err != nil) != c.err {
				t.Fatalf("error %v; want error %v", err, c.err)
			}
			if got != c.want {
				t.Fatalf("wait %s; want %s", got, c.want)
			}
		})
	}
}
