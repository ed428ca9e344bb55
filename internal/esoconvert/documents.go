package esoconvert

import (
	"bytes"
)

// document is one YAML document of the input, kept byte for byte so that a
// document convert does not touch is written out exactly as it came.
type document struct {
	// marker is the "---" line that opened the document (without its line
	// break), or nil for a first document written without one.
	marker []byte
	// body is everything after the marker line up to the next marker line.
	body []byte
	// line is the 1-based line of the input the document starts on.
	line int
}

// text is what a YAML parser must read for the document: the marker line
// matters only when something follows "---" on it (`--- {a: b}`, a tag).
func (d document) text() []byte {
	if len(bytes.TrimSpace(bytes.TrimPrefix(d.marker, []byte("---")))) == 0 {
		return d.body
	}
	return append(append(append([]byte{}, d.marker...), '\n'), d.body...)
}

// blank reports a document that holds nothing but white space.
func (d document) blank() bool {
	return len(bytes.TrimSpace(d.text())) == 0
}

// splitDocuments cuts a YAML stream at its document markers: lines that are
// "---" alone or followed by white space. Only a line starting in the first
// column can be a marker, so "-----BEGIN CERTIFICATE-----" or an indented
// "---" inside a block scalar never splits a document.
func splitDocuments(in []byte) []document {
	var docs []document
	cur := document{line: 1}
	lineNo := 0
	for start := 0; start < len(in); {
		end := bytes.IndexByte(in[start:], '\n')
		next := len(in)
		if end >= 0 {
			next = start + end + 1
		}
		lineNo++
		line := bytes.TrimRight(in[start:next], "\r\n")
		if isMarker(line) {
			docs = append(docs, cur)
			cur = document{marker: line, line: lineNo}
		} else {
			cur.body = append(cur.body, in[start:next]...)
		}
		start = next
	}
	docs = append(docs, cur)
	kept := docs[:0]
	for _, d := range docs {
		if !d.blank() {
			kept = append(kept, d)
		}
	}
	return kept
}

// isMarker reports a YAML document start marker line.
func isMarker(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t'
}

// output collects the documents to print and writes them as one valid YAML
// stream: a marker before every document but the first, and a line break
// at the end of each, so that no marker is ever glued to a last line.
type output struct {
	buf   bytes.Buffer
	count int
}

// passThrough adds a document exactly as it was read. Its marker line is
// kept when something follows "---" on it; a bare marker is written as "---".
func (o *output) passThrough(d document) {
	switch {
	case len(bytes.TrimSpace(d.marker)) > 3:
		o.buf.Write(d.marker) // a comment or content follows the marker
		o.buf.WriteByte('\n')
	case o.count > 0:
		o.buf.WriteString("---\n")
	}
	o.writeBody(d.body)
}

// converted adds a document convert produced.
func (o *output) converted(body []byte) {
	if o.count > 0 {
		o.buf.WriteString("---\n")
	}
	o.writeBody(body)
}

func (o *output) writeBody(b []byte) {
	o.buf.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		o.buf.WriteByte('\n')
	}
	o.count++
}
