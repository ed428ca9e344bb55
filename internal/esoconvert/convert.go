// Package esoconvert converts External Secrets Operator manifests (external-secrets.io/v1 and v1beta1) to
// baosync.io/v1alpha1. Field names are shared, so a conversion changes the
// apiVersion, maps the few renamed fields and drops what has no baosync
// meaning; every dropped field is reported with its path and the reason, and
// a field whose loss would change behaviour refuses the object. Documents
// that are not ESO objects pass through byte for byte. `baosync convert`
// (commands/convert) and the ESO-compatible mode (controllers/esocompat) use
// it.
package esoconvert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert/admission"
)

// Warning is something the conversion could not carry over as it was.
type Warning struct {
	// Source names where the object was read, e.g. "apps/db.yaml:12" (file
	// and line of its document); empty for a single unnamed input.
	Source string
	// Object names the object, e.g. "ExternalSecret app/db".
	Object string
	// Message says what was dropped, changed or refused, with the field path
	// and why.
	Message string
	// Failed marks an object that was not converted: its output would fail to
	// apply or behave differently. The command's exit code says so.
	Failed bool
}

// String formats the warning for a terminal.
func (w Warning) String() string {
	s := w.Object + ": " + w.Message
	if w.Source != "" {
		s = w.Source + ": " + s
	}
	return s
}

// Input is one named YAML stream (a file, or stdin with an empty name).
type Input struct {
	Name string
	Data []byte
}

// Convert reads YAML documents from r and writes the converted stream to w.
// The error is for reading and writing; objects that could not be
// converted are Warnings with Failed set.
func Convert(r io.Reader, w io.Writer) ([]Warning, error) {
	in, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	return All([]Input{{Data: in}}, w)
}

// Check is one more admission check of a converted object, besides the
// offline one against baosync's CRDs (a server-side dry run, say): it
// returns what would be refused, one line each.
type Check func(doc []byte) []string

// All converts several inputs into one stream, so that references
// from one file to a store in another are checked too. Each converted
// object is checked offline against baosync's CRDs, then by checks.
func All(inputs []Input, w io.Writer, checks ...Check) ([]Warning, error) {
	var results []*result
	for _, in := range inputs {
		if !utf8.Valid(in.Data) { // YAML in UTF-16 or 32 cannot be split and rejoined by lines
			results = append(results, &result{source: in.Name, warnings: []Warning{{Object: "input",
				Message: "is not UTF-8 text; not converted", Failed: true}}})
			continue
		}
		for _, d := range splitDocuments(in.Data) {
			r := convertDocument(d, func(c *conversion, out []byte) bool { return admitted(c, out, checks) })
			r.source = source(in.Name, d.line)
			results = append(results, r)
		}
	}
	checkStoreRefs(results)
	var out output
	var warnings []Warning
	for _, r := range results {
		for _, wn := range r.warnings {
			wn.Source = r.source
			warnings = append(warnings, wn)
		}
		switch {
		case r.passThrough:
			out.passThrough(r.doc)
		case r.out != nil:
			out.converted(r.out)
		}
	}
	if _, err := w.Write(out.buf.Bytes()); err != nil {
		return warnings, fmt.Errorf("write output: %w", err)
	}
	return warnings, nil
}

func source(name string, line int) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", name, line)
}

// result is what became of one document.
type result struct {
	doc         document
	source      string
	passThrough bool
	out         []byte // the converted document, nil when not printed
	warnings    []Warning
	// conv is the conversion of an ESO object (nil for other documents).
	conv *conversion
}

// convertDocument converts one document, or passes it through; admit
// decides whether the converted object may be printed.
func convertDocument(d document, admit func(*conversion, []byte) bool) *result {
	r := &result{doc: d}
	n, err := parseDocument(d.text())
	if err != nil {
		r.warnings = []Warning{{Object: "document", Message: fmt.Sprintf("not valid YAML (%v); not converted", err), Failed: true}}
		return r
	}
	if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		r.passThrough = true // comments only, or not an object
		return r
	}
	root := n.Content[0]
	_, av := lookup(root, "apiVersion")
	_, kv := lookup(root, "kind")
	apiVersion, kind := scalarString(av), scalarString(kv)
	if !strings.HasPrefix(apiVersion, "external-secrets.io/") && !strings.Contains(apiVersion, ".external-secrets.io/") {
		r.passThrough = true // not ESO (generators live in generators.external-secrets.io)
		return r
	}
	c := newConversion(root, kind, apiVersion)
	r.conv = c
	c.run()
	r.warnings = c.warnings
	if c.skipped || c.failed {
		return r
	}
	av.Value = v1alpha1.GroupVersion.String()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		c.fail(nil, fmt.Sprintf("cannot be written back as YAML (%v)", err))
		r.warnings = c.warnings
		return r
	}
	_ = enc.Close()
	if !admit(c, buf.Bytes()) {
		r.warnings = c.warnings
		return r
	}
	r.out = buf.Bytes()
	return r
}

// admitted checks the converted object as the API server would admit it
// (schema, defaults, unknown fields, CEL rules), then with checks, and fails
// the conversion for each problem, so that no printed object fails
// `kubectl apply`.
func admitted(c *conversion, out []byte, checks []Check) bool {
	// Offline and bounded by CEL's cost budget: nothing to cancel.
	problems, err := admission.Check(context.Background(), out)
	if err != nil {
		c.fail(nil, fmt.Sprintf("cannot be checked against baosync's CRDs (%v)", err))
		return false
	}
	for _, p := range problems {
		c.fail(nil, "the API server would refuse the converted object: "+p)
	}
	for _, check := range checks {
		if c.failed {
			break // the server would say the same
		}
		for _, p := range check(out) {
			c.fail(nil, p)
		}
	}
	return !c.failed
}

// parseDocument parses a document to its end: yaml.Unmarshal stops after
// the first node and would let trailing garbage through to the output.
func parseDocument(text []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var first *yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if first != nil {
			return nil, errors.New("more than one YAML document after a \"...\" line: separate documents with ---")
		}
		first = &n
	}
	if first == nil {
		first = &yaml.Node{}
	}
	return first, nil
}

// Object converts one ESO object, given as a YAML (or JSON) document, for a
// caller that submits the result to the API server itself, as the operator's
// ESO-compatible mode does: the offline admission check is left to the
// server, whose admission of the submitted object decides. out is the
// converted document, nil when the object was skipped (not for baosync:
// another provider, a kind baosync lacks) or failed; warnings say why, and
// what was carried over differently.
func Object(doc []byte) (out []byte, warnings []Warning, skipped bool) {
	r := convertDocument(document{body: doc, line: 1}, func(*conversion, []byte) bool { return true })
	if r.passThrough {
		return nil, []Warning{{Object: "document", Message: "is not an External Secrets Operator object; not converted", Failed: true}}, false
	}
	return r.out, r.warnings, r.conv != nil && r.conv.skipped
}
