package externalsecret

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/baosync/baosync/api/v1alpha1"
)

// maxWindowSteps bounds the search for the end of overlapping deny windows.
const maxWindowSteps = 16

// windowWait says whether sw lets a refresh run at now (UTC), and if not,
// how long until it may. An invalid schedule is an error: the object's spec
// must change.
func windowWait(sw *v1alpha1.SyncWindows, now time.Time) (time.Duration, error) {
	if sw == nil || len(sw.Windows) == 0 {
		return 0, nil
	}
	scheds := make([]cron.Schedule, len(sw.Windows))
	for i, w := range sw.Windows {
		s, err := cron.ParseStandard(w.Schedule)
		if err != nil {
			return 0, fmt.Errorf("syncWindows.windows[%d].schedule %q: %w", i, w.Schedule, err)
		}
		if w.Duration.Duration <= 0 {
			return 0, fmt.Errorf("syncWindows.windows[%d].duration must be positive", i)
		}
		scheds[i] = s
	}
	now = now.UTC()
	if sw.Kind == v1alpha1.SyncWindowDeny {
		return denyWait(sw.Windows, scheds, now), nil
	}
	return allowWait(sw.Windows, scheds, now), nil
}

// openUntil reports whether window w (schedule s) is open at t, and until when.
func openUntil(w v1alpha1.SyncWindow, s cron.Schedule, t time.Time) (time.Time, bool) {
	start := s.Next(t.Add(-w.Duration.Duration)) // the first opening after t-duration
	if start.After(t) {
		return time.Time{}, false
	}
	return start.Add(w.Duration.Duration), true
}

// allowWait is 0 while a window is open, else the time until one opens.
func allowWait(ws []v1alpha1.SyncWindow, scheds []cron.Schedule, now time.Time) time.Duration {
	var next time.Time
	for i, w := range ws {
		if _, open := openUntil(w, scheds[i], now); open {
			return 0
		}
		if n := scheds[i].Next(now); next.IsZero() || n.Before(next) {
			next = n
		}
	}
	return next.Sub(now)
}

// denyWait is 0 while no window is open, else the time until all are shut.
func denyWait(ws []v1alpha1.SyncWindow, scheds []cron.Schedule, now time.Time) time.Duration {
	t := now
	for range maxWindowSteps {
		var end time.Time
		for i, w := range ws {
			if until, open := openUntil(w, scheds[i], t); open && until.After(end) {
				end = until
			}
		}
		if end.IsZero() {
			return t.Sub(now)
		}
		t = end
	}
	return t.Sub(now)
}
