package template

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// redacted replaces a message that may carry a value.
const redacted = "<redacted>"

// safeError is an error whose text is a constant of this package. It carries
// no value, so a function may return one to reach the user (see pki.go).
type safeError string

func (e safeError) Error() string { return string(e) }

// callError is a function's failure. Its text never includes the function's
// own message, which may quote an argument (fail, required, toDate, regexp
// and JSON errors all do), unless that message is a safeError.
type callError struct{ fn, msg string }

func (e *callError) Error() string { return "error calling " + e.fn + ": " + e.msg }

func newCallError(fn string, err error) *callError {
	var se safeError
	if errors.As(err, &se) {
		return &callError{fn: fn, msg: se.Error()}
	}
	return &callError{fn: fn, msg: redacted}
}

// execError rebuilds an execution failure from safe parts only: the
// location and the text of the node it happened at (template source), then
// a class this package controls. text/template formats values and the
// messages of functions into its errors, and those may carry a fetched value
// in any encoding (b64enc, printf "%x", a map key), so the original text is
// dropped, not redacted.
func execError(name string, err error) *Error {
	where, rest := locate(name, err)
	var le *limitError
	var ce *callError
	switch {
	case errors.As(err, &le):
		return &Error{Budget: true, Err: errors.New(where + le.msg)}
	case errors.As(err, &ce):
		return &Error{Err: errors.New(where + ce.Error())}
	}
	return &Error{Err: errors.New(where + classify(rest))}
}

// locate splits text/template's `template: NAME:LINE:COL: executing "NAME"
// at <NODE>: MESSAGE` into the prefix up to the node, and the message. The
// prefix is checked piece by piece against what text/template writes, and
// it ends at the first ">: " after "at <": if the node text holds one, the
// cut comes early, still within template source, never in the message.
func locate(name string, err error) (where, rest string) {
	fallback := "template: " + name + ": "
	var ee template.ExecError
	if !errors.As(err, &ee) {
		return fallback, ""
	}
	msg := ee.Error()
	head := "template: " + name + ":"
	if !strings.HasPrefix(msg, head) {
		return fallback, ""
	}
	pos := len(head)
	for range 2 { // LINE: and COL:
		n := len(msg[pos:]) - len(strings.TrimLeft(msg[pos:], "0123456789"))
		if n == 0 || !strings.HasPrefix(msg[pos+n:], ":") {
			return fallback, ""
		}
		pos += n + 1
	}
	at := " executing " + strconv.Quote(ee.Name) + " at <"
	if !strings.HasPrefix(msg[pos:], at) {
		return fallback, ""
	}
	end := strings.Index(msg[pos+len(at):], ">: ")
	if end < 0 {
		return msg[:pos] + " ", ""
	}
	cut := pos + len(at) + end + len(">: ")
	return msg[:cut], msg[cut:]
}

// safeMessages are the messages of text/template kept in part. Each keeps
// only identifiers from the template, matched by a class without '>', ':'
// or space, so that it cannot reach across an early cut into the message.
var safeMessages = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`^error calling ([\pL\pN_]+): `), "error calling $1: " + redacted},
	{regexp.MustCompile(`^map has no entry for key ("[\pL\pN_]+")$`), "map has no entry for key $1"},
	{regexp.MustCompile(`^can't evaluate field ([\pL\pN_]+) in type `), "can't evaluate field $1"},
	{regexp.MustCompile(`^template ("[\pL\pN_.-]+") not defined$`), "template $1 not defined"},
	{regexp.MustCompile(`^wrong number of args for ([\pL\pN_]+): want (at least )?(\d+) got (\d+)$`), "wrong number of args for $1: want $2$3 got $4"},
	{regexp.MustCompile(`^wrong type for value; `), "wrong type for value"},
	{regexp.MustCompile(`^nil pointer evaluating `), "nil pointer evaluating a field"},
	{regexp.MustCompile(`^range can't iterate over `), "range can't iterate over this value"},
	{regexp.MustCompile(`^if/with can't use `), "if/with can't use this value"},
}

// classify names a text/template failure without quoting it.
func classify(msg string) string {
	for _, m := range safeMessages {
		if loc := m.re.FindStringSubmatchIndex(msg); loc != nil {
			return string(m.re.ExpandString(nil, m.repl, msg, loc))
		}
	}
	return "execution failed (message withheld: it may carry a value)"
}

// Outcome classifies a template failure: a parse error, or one that exceeded
// the evaluation budget (the same spec would exceed it again), is terminal;
// one that failed on the data is waiting. Both carry Reason TemplateError.
func Outcome(err error) error {
	if err == nil {
		return nil
	}
	var te *Error
	if errors.As(err, &te) && (te.Parse || te.Budget) {
		return outcome.Terminalf(v1alpha1.ReasonTemplateError, "%v; fix the template", err)
	}
	return outcome.Waitingf(v1alpha1.ReasonTemplateError, 0, "%v", err)
}
