// Package rename renames keys through rewrite steps, as an ExternalSecret's
// dataFrom and a PushSecret's dataTo write them: a regular expression
// replacement or a template of the key.
package rename

import (
	"fmt"
	"regexp"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/outcome"
	"github.com/baosync/baosync/controllers/internal/template"
)

// Step returns the function of rewrite step i. Template steps render in
// session, so that every key and step of one object shares one budget. An
// invalid regular expression is InvalidSpec, a failing template TemplateError.
func Step(session *template.Session, i int, step v1alpha1.ExternalSecretRewrite) (func(string) (string, error), error) {
	if r := step.Regexp; r != nil {
		re, err := regexp.Compile(r.Source)
		if err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "rewrite[%d].regexp.source %q is not a valid RE2 expression: %v", i, r.Source, err)
		}
		return func(k string) (string, error) { return re.ReplaceAllString(k, r.Target), nil }, nil
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
		return string(out), nil
	}, nil
}
