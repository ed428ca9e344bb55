package tenancy

import (
	"errors"
	"testing"
)

func TestExpand(t *testing.T) {
	ns := Namespace{Name: "team-a", Labels: map[string]string{"team": "payments", "example.com/tier": "gold", "empty": ""}}
	cases := []struct {
		name, template, want string
		err                  bool
		missing              bool
	}{
		{name: "plain text stays as it is", template: "apps/", want: "apps/"},
		{name: "the namespace's name fills {namespace}", template: "apps/{namespace}/", want: "apps/team-a/"},
		{name: "a label's value fills {label:key}", template: "kv-{label:team}", want: "kv-payments"},
		{name: "a label key may carry a DNS prefix", template: "{label:example.com/tier}/{namespace}", want: "gold/team-a"},
		{name: "placeholders repeat", template: "{namespace}-{namespace}", want: "team-a-team-a"},
		{name: "a missing label is an error, not an empty segment", template: "{label:owner}/{namespace}", missing: true, err: true},
		{name: "an empty label is an error", template: "{label:empty}/{namespace}", missing: true, err: true},
		{name: "an unknown placeholder is refused", template: "{name}", err: true},
		{name: "a function-like placeholder is refused", template: "{upper namespace}", err: true},
		{name: "go template syntax is refused", template: "{{ .Namespace }}", err: true},
		{name: "a stray brace is refused", template: "apps/{namespace", err: true},
		{name: "a closing brace alone is refused", template: "apps}/", err: true},
		{name: "a label key with a space is refused", template: "{label:a b}", err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Expand(c.template, ns)
			if (err != nil) != c.err {
				t.Fatalf("Expand(%q) = %q, %v; want error %v", c.template, got, err, c.err)
			}
			if c.missing != errors.Is(err, ErrMissingLabel) {
				t.Fatalf("Expand(%q) error %v; want ErrMissingLabel %v", c.template, err, c.missing)
			}
			if got != c.want {
				t.Fatalf("Expand(%q) = %q; want %q", c.template, got, c.want)
			}
		})
	}
}

func TestSegment_OnlyAWholeSegmentKeepsNamespacesApart(t *testing.T) {
	cases := map[string]bool{
		"apps/{namespace}/":              true,
		"{namespace}":                    true,
		"{label:team}/{namespace}/x":     true,
		"apps/ns-{namespace}/":           false, // ns "a" + "-b"... a prefix inside a segment may collide
		"{namespace}{label:team}/":       false,
		"apps/{label:team}/":             false,
		"tenants/{namespace}/{label:x}/": true,
	}
	for tmpl, want := range cases {
		if got := Segment(tmpl); got != want {
			t.Errorf("Segment(%q) = %v; want %v", tmpl, got, want)
		}
	}
}

func TestUsesLabels(t *testing.T) {
	if UsesLabels("apps/{namespace}/", "ns-{namespace}") {
		t.Fatal("no label is named")
	}
	if !UsesLabels("x", "kv-{label:team}") {
		t.Fatal("a label is named")
	}
}

func FuzzExpand_NeverPanicsAndNeverLeavesABrace(f *testing.F) {
	for _, s := range []string{"apps/{namespace}/", "{label:team}", "{", "}{", "{label:}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		out, err := Expand(tmpl, Namespace{Name: "n", Labels: map[string]string{"team": "t"}})
		if err == nil && Check(tmpl) != nil {
			t.Fatalf("Expand accepted %q which Check refuses", tmpl)
		}
		_ = out
	})
}

func TestRoleSafe_ALabelAloneNeverChoosesTheRole(t *testing.T) {
	for tmpl, want := range map[string]bool{"ns-{namespace}": true, "team-{label:team}": false, "{label:team}-{namespace}": true, "tenants": true} {
		if got := RoleSafe(tmpl); got != want {
			t.Errorf("RoleSafe(%q) = %v; want %v", tmpl, got, want)
		}
	}
}
