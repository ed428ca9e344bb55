package rename

import (
	"regexp"
	"strings"
	"testing"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/template"
)

// TestReplace_IsReplaceAllStringWithinMaxKey: the bounded replacement gives
// what regexp's own does, for the forms rewrite steps use.
func TestReplace_IsReplaceAllStringWithinMaxKey(t *testing.T) {
	for _, tc := range []struct{ source, target, key string }{
		{"^app-(.*)$", "apps/$1", "app-db"}, {"_", "-", "a_b_c"}, {"", "x", "abc"}, {"b*", "-", "abbbc"},
		{`(?P<first>\w+)-(\w+)`, "${2}_$first", "one-two three-four"}, {"z", "y", "abc"}, {"(?s).+", "$0$0", "ab"},
	} {
		re := regexp.MustCompile(tc.source)
		got, ok := replace(re, tc.key, tc.target)
		if want := re.ReplaceAllString(tc.key, tc.target); !ok || got != want {
			t.Errorf("replace(%q, %q, %q) = %q, %v; want %q", tc.source, tc.key, tc.target, got, ok, want)
		}
	}
}

// TestStep_AKeyGrownPastMaxKeyIsInvalidSpec: a step that repeats the key at
// every match (or a template that pads it) stops at MaxKey, with the Reason
// InvalidSpec, before the key is built whole.
func TestStep_AKeyGrownPastMaxKeyIsInvalidSpec(t *testing.T) {
	session := template.NewSession()
	for name, step := range map[string]v1alpha1.ExternalSecretRewrite{
		"regexp":   {Regexp: &v1alpha1.RewriteRegexp{Source: "(?s).+", Target: strings.Repeat("$0", 512)}},
		"template": {Transform: &v1alpha1.RewriteTransform{Template: `{{ repeat 2000 .value }}`}},
	} {
		fn, err := Step(session, 0, step)
		if err != nil {
			t.Fatal(err)
		}
		k := "ab"
		for range 4 {
			if k, err = fn(k); err != nil {
				break
			}
		}
		if err == nil || outcome.As(err, "").Reason != v1alpha1.ReasonInvalidSpec {
			t.Errorf("%s: key grew to %d bytes without InvalidSpec (%v)", name, len(k), err)
		}
	}
}
