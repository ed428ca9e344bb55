// Package tenancy is the template language of a shared store's tenancy
// section: text with the placeholders {namespace} and {label:<key>}, and no
// functions, so that an admin can read off what each namespace gets. The
// values come from the namespace object, which tenants do not write: never
// from a field of a tenant's own object.
package tenancy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Namespace is what a template may use of the namespace that uses a store.
type Namespace struct {
	// Name of the namespace.
	Name string
	// Labels of the namespace.
	Labels map[string]string
}

// placeholder matches one placeholder; labelKey is a Kubernetes label key
// (an optional DNS prefix and "/", then a name).
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// labelKey is the grammar admission checks for the key of {label:<key>}.
var labelKey = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$`)

// Check reports whether t is a valid template, with an error naming the first
// thing wrong. Admission checks the same grammar; Check guards stores that
// reached the operator another way (baosync render, an older CRD).
func Check(t string) error {
	rest := placeholder.ReplaceAllStringFunc(t, func(p string) string {
		if p == "{namespace}" || (strings.HasPrefix(p, "{label:") && labelKey.MatchString(p[len("{label:"):len(p)-1])) {
			return ""
		}
		return "{" // never valid: reported below
	})
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("template %q holds a brace that is no {namespace} or {label:<key>}", t)
	}
	return nil
}

// ErrMissingLabel means a template names a label the namespace does not have.
var ErrMissingLabel = errors.New("the namespace has no such label")

// Expand fills t's placeholders in for ns. A label the namespace lacks, or
// has empty, is an error: an empty segment would widen what the template
// names.
func Expand(t string, ns Namespace) (string, error) {
	if err := Check(t); err != nil {
		return "", err
	}
	var missing error
	out := placeholder.ReplaceAllStringFunc(t, func(p string) string {
		if p == "{namespace}" {
			return ns.Name
		}
		key := p[len("{label:") : len(p)-1]
		v := ns.Labels[key]
		if v == "" && missing == nil {
			missing = fmt.Errorf("namespace %q has no label %q (or it is empty), which the template %q names: %w", ns.Name, key, t, ErrMissingLabel)
		}
		return v
	})
	if missing != nil {
		return "", missing
	}
	return out, nil
}

// UsesLabels reports whether any of the templates names a label, so that the
// namespace object is read only when needed.
func UsesLabels(templates ...string) bool {
	for _, t := range templates {
		if strings.Contains(t, "{label:") {
			return true
		}
	}
	return false
}

// Segment reports whether {namespace} fills a whole "/"-separated segment of
// t: with it, two namespaces never get the same expansion, whatever their
// labels (a label value holds no "/").
func Segment(t string) bool {
	for s := range strings.SplitSeq(t, "/") {
		if s == "{namespace}" {
			return true
		}
	}
	return false
}

// RoleSafe reports whether a role template names no label, or the namespace
// too: a role chosen by a label alone would let a tenant that can label its
// own namespace log in with another team's role.
func RoleSafe(t string) bool {
	return !strings.Contains(t, "{label:") || strings.Contains(t, "{namespace}")
}
