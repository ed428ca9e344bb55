// Package rename renames keys through rewrite steps, as an ExternalSecret's
// dataFrom and a PushSecret's dataTo write them: a regular expression
// replacement or a template of the key.
package rename

import (
	"fmt"
	"regexp"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/template"
)

// MaxKey bounds what one step may make of a key, in bytes: a Secret key has
// at most 253, a remote key 1024. A tenant's steps feed each other, and a
// replacement repeated at every match would otherwise grow a key
// exponentially, step after step, until the operator runs out of memory.
const MaxKey = 1024

// Step returns the function of rewrite step i. Template steps render in
// session, so that every key and step of one object shares one budget. An
// invalid regular expression, or a key grown past MaxKey, is InvalidSpec; a
// failing template TemplateError.
func Step(session *template.Session, i int, step v1alpha1.ExternalSecretRewrite) (func(string) (string, error), error) {
	tooLong := func(k string) error {
		return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "rewrite[%d] turns key %q into more than %d bytes", i, k, MaxKey)
	}
	if r := step.Regexp; r != nil {
		re, err := regexp.Compile(r.Source)
		if err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "rewrite[%d].regexp.source %q is not a valid RE2 expression: %v", i, r.Source, err)
		}
		return func(k string) (string, error) {
			out, ok := replace(re, k, r.Target)
			if !ok {
				return "", tooLong(k)
			}
			return out, nil
		}, nil
	}
	if step.Transform == nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "rewrite[%d] sets neither regexp nor transform", i)
	}
	name := fmt.Sprintf("rewrite[%d].transform", i)
	return func(k string) (string, error) {
		out, err := session.Render(name, step.Transform.Template, map[string][]byte{"value": []byte(k)})
		if err != nil {
			return "", template.Outcome(err)
		}
		if len(out) > MaxKey {
			return "", tooLong(k)
		}
		return string(out), nil
	}, nil
}

// replace is re.ReplaceAllString(k, target) that gives up as soon as the
// result passes MaxKey, before it is built whole.
func replace(re *regexp.Regexp, k, target string) (string, bool) {
	var out []byte
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(k, -1) {
		out = append(out, k[last:m[0]]...)
		out = re.ExpandString(out, target, k, m)
		if len(out) > MaxKey {
			return "", false
		}
		last = m[1]
	}
	out = append(out, k[last:]...)
	return string(out), len(out) <= MaxKey
}
