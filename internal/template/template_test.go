package template

import (
	"errors"
	"strings"
	"testing"
)

func TestRender_RedactsValuesInErrors(t *testing.T) {
	data := map[string][]byte{"pw": []byte("s3cr3t-value")}
	_, err := Render("t", `{{ fail .pw }}`, data)
	if err == nil || strings.Contains(err.Error(), "s3cr3t-value") || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("want a redacted error, got %v", err)
	}
}

func TestRender_RefusesTheEnvironment(t *testing.T) {
	if _, err := Render("t", `{{ env "HOME" }}`, nil); err == nil {
		t.Fatal("env must not be available to templates")
	}
}

// TestRender_KeepsNormalTemplatesWorking checks that the budget and the
// guards leave the templates ESO users write unchanged.
func TestRender_KeepsNormalTemplatesWorking(t *testing.T) {
	data := map[string][]byte{"a": []byte("dmFsdWU="), "b": []byte("x")}
	cases := map[string]string{
		`{{ .a }}`:          "dmFsdWU=",
		`{{ .a | b64dec }}`: "value",
		`{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}`:                      "a=dmFsdWU=;b=x;",
		`{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .b }}`:                 "[x]",
		`{{ block "b" .b }}<{{ . }}>{{ end }}`:                                    "<x>",
		`{{ printf "%s-%d" .b 3 }}`:                                               "x-3",
		`{{ printf "%05.1f|%[1]v" 3.14159 }}`:                                     "003.1|3.14159",
		`{{ printf "%[2]s%[1]s" "a" "b" }}`:                                       "ba",
		`{{ list 1 "two" | toJson }}`:                                             `[1,"two"]`,
		`{{ if .b }}yes{{ else }}no{{ end }}`:                                     "yes",
		`{{ if eq .b "y" }}1{{ else if eq .b "x" }}2{{ end }}`:                    "2",
		`{{ with $x := 3 }}{{ $x }}{{ end }}`:                                     "3",
		`{{ range 3 }}{{ . }}{{ end }}`:                                           "012",
		`{{ range $i, $e := list "p" "q" }}{{ $i }}{{ $e }}{{ break }}{{ end }}`:  "0p",
		`{{ $m := dict "k" 1 }}{{ range $k, $v := $m }}{{ $k }}{{ $v }}{{ end }}`: "k1",
		`{{ index . "nope" | default "d" }}`:                                      "d",
		`{{ nindent 2 "a\nb" }}`:                                                  "\n  a\n  b",
		`{{ "x" | repeat 3 }}`:                                                    "xxx",
		`{{ until 3 }} {{ seq 3 }} {{ untilStep 0 6 2 }}`:                         "[0 1 2] 1 2 3 [0 2 4]",
		`{{ html "<a>" }} {{ js "<" }} {{ urlquery "a b" }}`:                      "&lt;a&gt; \\u003C a+b",
		`{{ regexReplaceAll "a(.)" "xabyacz" "$1" }}`:                             "xbycz",
		`{{ regexFindAll "a" "aaa" -1 | len }}`:                                   "3",
		`{{ regexSplit "," "a,b,c" -1 | len }}`:                                   "3",
		`{{ "a,b" | splitList "," | join "-" }}`:                                  "a-b",
		`{{ replace "a" "bb" "aXa" }} {{ wrapWith 2 "|" "ab cd" }}`:               "bbXbb ab|cd",
		`{{ randAlphaNum 16 | len }} {{ .b | bcrypt | len }}`:                     "16 60",
		`{{ uniq (list 1 1 2) }} {{ without (list 1 2 3) 2 }}`:                    "[1 2] [1 3]",
		`{{ and 1 0 }} {{ or 0 2 }} {{ not true }} {{ len (list 1 2) }}`:          "0 2 false 2",
		`{{ (fromJson "{\"k\":[1,2]}").k | toJson }}`:                             "[1,2]",
		`{{ print nil }} {{ println "x" }}`:                                       "<nil> x\n",
	}
	for text, want := range cases {
		out, err := Render("t", text, data)
		if err != nil || string(out) != want {
			t.Errorf("%s: got %q, %v; want %q", text, out, err, want)
		}
	}
}

// typical is an ExternalSecret template of the usual size and shape.
const typical = `{{- $creds := dict "user" .user "password" .password -}}
host={{ .host }}
user={{ .user | quote }}
password={{ .password | b64enc }}
{{- range $k, $v := . }}
{{ $k | upper }}_HASH={{ $v | sha256sum | trunc 8 }}
{{- end }}
url={{ printf "postgres://%s:%s@%s:5432/app" .user (.password | urlquery) .host }}
json={{ $creds | toJson }}
{{ if eq .tls "true" }}sslmode=require{{ else }}sslmode=disable{{ end }}
`

// BenchmarkRender_Typical measures the cost of the budget on a usual
// template: parsing, instrumenting, binding the used functions, executing.
func BenchmarkRender_Typical(b *testing.B) {
	data := map[string][]byte{"host": []byte("db.example"), "user": []byte("app"), "password": []byte("s3cr3t"), "tls": []byte("true"), "port": []byte("5432")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render("t", typical, data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRender_PrintfRefusesOnlyCostlyFormats checks the printf check on
// the formats people write and on the ones that would allocate too much.
func TestRender_PrintfRefusesOnlyCostlyFormats(t *testing.T) {
	cases := []struct {
		format string
		ok     bool
	}{
		{`"%-10s|%08.3f|%x|%%|%5%|%+q|%#v"`, true},
		{`"%[2]s %[1]s %[3]d"`, true},
		{`"%[x]d %!"`, true},
		{`"%10000d"`, true},
		{`"%10001d"`, false},
		{`"%.99999f"`, false},
		{`"%*d"`, false},
		{`"%[1]*d"`, false},
		{`"%.*f"`, false},
		{`(repeat 1000 "%9999d")`, false},
	}
	for _, c := range cases {
		_, err := Render("t", `{{ printf `+c.format+` "a" "b" 3 }}`, nil)
		var te *Error
		if refused := errors.As(err, &te) && te.Budget; refused == c.ok {
			t.Errorf("printf %s: got %v, want accepted=%v", c.format, err, c.ok)
		}
	}
}
