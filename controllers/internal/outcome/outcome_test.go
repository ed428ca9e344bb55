package outcome

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

func TestLog_OnlyTransientFailuresAreErrors(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		wantError bool
	}{
		{"a terminal configuration error is information", Terminalf(v1alpha1.ReasonInvalidSpec, "bad key"), false},
		{"a wait is information", Waitingf(v1alpha1.ReasonRemoteNotFound, 0, "not yet"), false},
		{"throttling is information", FromProvider(&providers.ThrottledError{Store: "s", Namespace: "n", After: time.Second}), false},
		{"an unreachable server is an error", FromProvider(providers.ErrUnavailable), true},
		{"an unclassified error is an error", errors.New("boom"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var line string
			log := funcr.NewJSON(func(obj string) { line = obj }, funcr.Options{})
			Log(log, tc.err, "Failed")
			// funcr writes "level" on info lines only.
			if isInfo := strings.Contains(line, `"level":0`); isInfo == tc.wantError {
				t.Fatalf("line %q: want an error line: %v", line, tc.wantError)
			}
		})
	}
}

func TestFromProvider_ThrottlingWaitsAsLongAsTheShareSays(t *testing.T) {
	oe := As(FromProvider(&providers.ThrottledError{Store: "s", Namespace: "n", After: 3 * time.Second}), "")
	if oe.Reason != v1alpha1.ReasonThrottled || oe.Class != Waiting || oe.After != 3*time.Second {
		t.Fatalf("got %+v", oe)
	}
	if oe := As(FromProvider(providers.ErrInvalidRef), ""); oe.Reason != v1alpha1.ReasonInvalidSpec || oe.Class != Terminal {
		t.Fatalf("an invalid reference: got %+v", oe)
	}
}
