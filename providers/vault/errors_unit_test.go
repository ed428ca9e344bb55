package vault

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/providers"
)

func TestClassify_BoundsAndCleansServerText(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXZhbHVl"
	const token = "hvs.CAESIJx3b2tlbi1mb3ItYmFvc3luYy10ZXN0cw"
	cases := []struct {
		name     string
		status   int
		errs     []string
		raw      bool
		sentinel error
		absent   []string
		has      string
	}{
		{name: "huge error text", status: 500, errs: []string{strings.Repeat("x", 1<<20)}, sentinel: providers.ErrUnavailable, has: "…"},
		{name: "many error strings", status: 400, errs: strings.Split(strings.Repeat("e,", 10000), ","), sentinel: providers.ErrInvalidConfig},
		{name: "a raw body", status: 502, raw: true, errs: []string{"<html>" + strings.Repeat("<p>bad gateway</p>", 1000)}, sentinel: providers.ErrUnavailable},
		{name: "an echoed JWT", status: 400, errs: []string{"invalid jwt " + jwt}, sentinel: providers.ErrInvalidConfig, absent: []string{jwt, "eyJzdWIi"}, has: redacted},
		{name: "an echoed token", status: 403, errs: []string{"token " + token + " denied", "legacy s.abcdefghijklmnopqrstuvwx"}, sentinel: providers.ErrPermissionDenied,
			absent: []string{token, "s.abcdefghijklmnopqrstuvwx"}, has: redacted},
		{name: "control characters", status: 404, errs: []string{"line1\nFAKE LOG LINE\r\x1b[31mred\x00\u202eevil\u0085"}, sentinel: providers.ErrNotFound,
			absent: []string{"\n", "\r", "\x1b", "\x00", "\u202e", "\u0085"}, has: "line1 FAKE LOG LINE [31mred evil"},
		{name: "multi-byte text cut at a rune", status: 500, errs: []string{strings.Repeat("é", 300)}, sentinel: providers.ErrUnavailable, has: "é…"},
		{name: "invalid UTF-8", status: 500, errs: []string{"bad \xff\xfe text"}, sentinel: providers.ErrUnavailable, has: "bad text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := classify("read", "secret/data/app", &api.ResponseError{StatusCode: tc.status, Errors: tc.errs, RawError: tc.raw})
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("got %v, want %v", err, tc.sentinel)
			}
			msg := err.Error()
			text := serverText(tc.errs)
			if len(text) > maxServerErrorBytes || len(msg) > maxServerErrorBytes+100 {
				t.Fatalf("text of %d bytes, message of %d bytes", len(text), len(msg))
			}
			if !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("message holds invalid UTF-8 or control characters: %q", msg)
			}
			for _, s := range tc.absent {
				if strings.Contains(msg, s) {
					t.Fatalf("message holds %q: %q", s, msg)
				}
			}
			if !strings.Contains(msg, tc.has) {
				t.Fatalf("message lacks %q: %q", tc.has, msg)
			}
		})
	}
}

func TestRedactor_RedactsRequestValuesAndKeepsJSON(t *testing.T) {
	r := &redactor{}
	r.addJSON([]byte(`{"data":{"pw":"hunter22","pin":"123","q":"a\"b\\c-long"},"n":12345}`))
	r.add("tok-0123456789")
	cases := []struct{ in, want string }{
		{in: `{"errors":["bad pw hunter22 for tok-0123456789"]}`, want: `{"errors":["bad pw [redacted] for [redacted]"]}`},
		{in: `{"errors":["short values stay: 123"]}`, want: `{"errors":["short values stay: 123"]}`},
		{in: `{"errors":["quoted a\"b\\c-long"]}`, want: `{"errors":["quoted [redacted]"]}`},
		{in: `plain hunter22 and a\"b\\c-long`, want: `plain [redacted] and [redacted]`},
		{in: `{"data":{"x":"hunter22"},"errors":[]}`, want: `{"data":{"x":"[redacted]"},"errors":[]}`},
		{in: `{"errors":["<b>hunter22</b> & more"]}`, want: `{"errors":["<b>[redacted]</b> & more"]}`},
	}
	for _, tc := range cases {
		if got := string(r.redactJSON([]byte(tc.in))); got != tc.want {
			t.Errorf("redactJSON(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
