// Package template renders ExternalSecret templates: Go text/template with the
// sprig functions that ESO users rely on, over the fetched values.
//
// Templates are written by tenants and treated as hostile. Every evaluation
// has a bounded cost and a hostile template ends as an *Error, so that one
// ExternalSecret can neither exhaust the operator's memory nor pin a worker:
//
//   - Steps and deadline. Each Render gets a fresh budget: steps, bytes of
//     function results, units of expensive functions, template-call depth
//     and a 2-second deadline. After parsing, every list of every tree (the
//     bodies of if, range, with, their else, and of templates) starts with
//     a call that spends a step and checks the deadline, so every loop
//     iteration, branch and template call costs one; template bodies count
//     their nesting.
//   - Guarded functions. Every function is wrapped (reflect.MakeFunc, same
//     signature) so that each call spends a step, is refused when its
//     arguments measure above 1 MiB, and has its result refused above 1 MiB
//     and charged to a 32 MiB allocation budget. Values are measured as an
//     encoder writes them, nested at most 32 deep. An evaluation binds only
//     the functions its template uses; the rest is built once.
//   - Amplifiers are checked before they run (their output would be
//     allocated before any check after the call): repeat, indent, replace,
//     wrapWith, join, printf widths, until/untilStep/seq lengths, rand
//     lengths, splits, regular expressions, uniq, fromJson, key inputs. Key
//     generation, password hashing and PKCS#12 share 4 expensive units.
//   - Printing a value and ranging over a map are checked too: fmt formats a
//     value whole before the writer can refuse it, and range sorts a map.
//   - Errors never carry a value. A parse error keeps the parser's message
//     (the parser sees only template text). An execution error is rebuilt
//     from the template name, line:col, the node text and a class of this
//     package; what functions and text/template said is dropped.
//
// This package must not import the controllers or the providers.
package template

import (
	"bytes"
	"errors"
	"fmt"
	"text/template"
	"text/template/parse"

	"sigs.k8s.io/yaml"
)

// Render executes one template over data (key to value, as strings) on a
// session of its own. name appears in errors, e.g. `template.data["x"]`.
func Render(name, text string, data map[string][]byte) ([]byte, error) {
	return NewSession().Render(name, text, data)
}

// RenderMap executes a template whose output is a YAML map of keys to values,
// on a session of its own.
func RenderMap(name, text string, data map[string][]byte) (map[string]string, error) {
	return NewSession().RenderMap(name, text, data)
}

// Render executes one template over data within the session's budget.
func (s *Session) Render(name, text string, data map[string][]byte) ([]byte, error) {
	trees, err := parse.Parse(name, text, "", "", parseNames, builtinNames)
	if err != nil {
		return nil, &Error{Parse: true, Err: err}
	}
	b := newBudget(s)
	t := template.New(name).Option("missingkey=error").Funcs(b.funcs(instrument(trees)))
	for n, tree := range trees {
		if _, err := t.AddParseTree(n, tree); err != nil {
			return nil, &Error{Parse: true, Err: err}
		}
	}
	values := make(map[string]string, len(data))
	for k, v := range data {
		values[k] = string(v)
	}
	var out bytes.Buffer
	if err := execute(t, &limited{w: &out, left: maxOutput}, values); err != nil {
		return nil, execError(name, err)
	}
	return out.Bytes(), nil
}

// execute runs t. text/template re-panics what it does not expect (a
// runtime error in its own code); end that evaluation, not the operator.
func execute(t *template.Template, w *limited, values map[string]string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("internal error")
		}
	}()
	return t.Execute(w, values)
}

// RenderMap executes a template whose output is a YAML map of keys to values,
// within the session's budget.
func (s *Session) RenderMap(name, text string, data map[string][]byte) (map[string]string, error) {
	out, err := s.Render(name, text, data)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(out, &m); err != nil {
		return nil, &Error{Err: fmt.Errorf("%s: the output is not a YAML map of strings", name)}
	}
	return m, nil
}

// Error is a template failure. Parse tells a broken template (fix the spec)
// from one that failed on the data (fix the data or the template). Budget
// tells a template that asked for more than an evaluation may spend: the
// same spec will do the same again, so it is a configuration error. Err
// never carries a fetched value.
type Error struct {
	Parse  bool
	Budget bool
	Err    error
}

// Error returns the rebuilt message, which holds no value.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the rebuilt error, never text/template's original.
func (e *Error) Unwrap() error { return e.Err }

// limited fails writes past a size, so a template cannot grow without bound.
type limited struct {
	w    *bytes.Buffer
	left int
}

func (l *limited) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, errOutput
	}
	l.left -= len(p)
	return l.w.Write(p)
}
