package vault

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/openbao/openbao/api/v2"
)

// What a server's error text may put into a message. The text reaches the
// status of objects, events and logs, and a tenant may run the server: it can
// echo the request (a login body holds a secret_id, password or JWT; a push
// body holds values) or answer with megabytes.
const (
	// maxServerErrorBytes bounds the server's error text in a message: enough for
	// Vault's own errors ("permission denied", "1 error occurred: * …"), too
	// little to fill a status or an event.
	maxServerErrorBytes = 200
	// minRedactLen is the shortest request value that is redacted from error
	// text: replacing "a" or "ok" would garble every message, and a value that
	// short protects nothing anyway.
	minRedactLen = 4
	// redacted replaces a sensitive string.
	redacted = "[redacted]"
)

// tokenLike matches Vault and OpenBao tokens (hvs., hvb., hvr., s., b., r.)
// and JWTs, so that error text never carries one even when the exact value was
// not known to the redactor.
var tokenLike = regexp.MustCompile(`\b(?:hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// redactor replaces the sensitive strings of one request (its token and the
// string values of its body) wherever a server's answer repeats them.
type redactor struct {
	values []string // longest first, so that a value holding another goes whole
}

// requestRedactor collects the token and body values of req. The body is read
// again through GetBody (the api client always sets it), at most
// maxResponseBytes of it: baosync's own requests are smaller.
func requestRedactor(req *http.Request) *redactor {
	r := &redactor{}
	r.add(req.Header.Get(api.AuthHeaderName))
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(body, maxResponseBytes))
			_ = body.Close()
			r.addJSON(b)
		}
	}
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
	return r
}

// add remembers v, and its JSON-escaped form when that differs.
func (r *redactor) add(v string) {
	if len(v) < minRedactLen {
		return
	}
	r.values = append(r.values, v)
	if b, err := json.Marshal(v); err == nil {
		if esc := string(b[1 : len(b)-1]); esc != v {
			r.values = append(r.values, esc)
		}
	}
}

// addJSON remembers every string value (not key) of a JSON document.
func (r *redactor) addJSON(doc []byte) {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return
	}
	walkStrings(v, func(s string) string { r.add(s); return s })
}

// redact replaces the remembered values in s.
func (r *redactor) redact(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// redactJSON redacts the strings of a JSON answer and encodes it again, so that
// it stays valid JSON whatever the values were; an answer that is not JSON is
// redacted as text.
func (r *redactor) redactJSON(doc []byte) []byte {
	if len(r.values) == 0 {
		return doc
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return []byte(r.redact(string(doc)))
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // as it came: no \u003c for every <
	if enc.Encode(walkStrings(v, r.redact)) != nil {
		return []byte(r.redact(string(doc)))
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// walkStrings applies f to every string value (not key) in v, in place, and
// returns v.
func walkStrings(v any, f func(string) string) any {
	switch t := v.(type) {
	case string:
		return f(t)
	case []any:
		for i := range t {
			t[i] = walkStrings(t[i], f)
		}
	case map[string]any:
		for k := range t {
			t[k] = walkStrings(t[k], f)
		}
	}
	return v
}

// serverText turns a server's error strings into text safe for a message:
// valid UTF-8, no control characters, no token-like strings, at most
// maxServerErrorBytes (cut at a rune boundary, marked with "…").
func serverText(errs []string) string {
	s := strings.Join(errs, "; ")
	if len(s) > 4*maxServerErrorBytes {
		s = s[:4*maxServerErrorBytes] // bounds the work below; cut again at the end
	}
	s = strings.ToValidUTF8(s, "")
	s = tokenLike.ReplaceAllString(s, redacted)
	// Control and format characters (newlines, escapes, bidi overrides) could
	// forge log lines or hide text; they become single spaces.
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}), " ")
	if len(s) <= maxServerErrorBytes {
		return s
	}
	cut := maxServerErrorBytes - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
