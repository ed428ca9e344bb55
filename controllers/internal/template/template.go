// Package template renders ExternalSecret templates: Go text/template with the
// sprig functions that ESO users rely on, over the fetched values. Errors never
// carry a value: every fetched value found in an error message is redacted.
package template

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

// maxOutput bounds what one template may produce.
const maxOutput = 1 << 20

// funcs are sprig's text functions without those that read the operator's
// environment or reach the network.
var funcs = func() template.FuncMap {
	f := sprig.TxtFuncMap()
	for _, name := range []string{"env", "expandenv", "getHostByName"} {
		delete(f, name)
	}
	for name, fn := range pkiFuncs {
		f[name] = fn
	}
	return f
}()

// Render executes one template over data (key to value, as strings). name
// appears in errors, e.g. `template.data["config.json"]`.
func Render(name, text string, data map[string][]byte) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, &Error{Parse: true, Err: redact(err, data)}
	}
	values := make(map[string]string, len(data))
	for k, v := range data {
		values[k] = string(v)
	}
	var out bytes.Buffer
	if err := t.Execute(&limited{w: &out, left: maxOutput}, values); err != nil {
		return nil, &Error{Err: redact(err, data)}
	}
	return out.Bytes(), nil
}

// RenderMap executes a template whose output is a YAML map of keys to values.
func RenderMap(name, text string, data map[string][]byte) (map[string]string, error) {
	out, err := Render(name, text, data)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(out, &m); err != nil {
		return nil, &Error{Err: fmt.Errorf("%s: the output is not a YAML map of strings (%d bytes)", name, len(out))}
	}
	return m, nil
}

// Error is a template failure; Parse tells a broken template (fix the spec)
// from one that failed on the data (fix the data or the template).
type Error struct {
	Parse bool
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// redact replaces every fetched value (of 3 bytes or more) found in the error.
func redact(err error, data map[string][]byte) error {
	msg := err.Error()
	for _, v := range data {
		if len(v) >= 3 {
			msg = strings.ReplaceAll(msg, string(v), "<redacted>")
		}
	}
	return fmt.Errorf("%s", msg)
}

// limited fails writes past a size, so a template cannot grow without bound.
type limited struct {
	w    *bytes.Buffer
	left int
}

func (l *limited) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, fmt.Errorf("template output exceeds %d bytes", maxOutput)
	}
	l.left -= len(p)
	return l.w.Write(p)
}
