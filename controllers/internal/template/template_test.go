package template

import (
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

func FuzzRender(f *testing.F) {
	for _, s := range []string{"{{ .a }}", "{{ .a | b64dec }}", "{{", "{{ range $k, $v := . }}{{ $k }}{{ end }}", `{{ "x" | repeat 5 }}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "repeat") || strings.Contains(text, "until") || strings.Contains(text, "seq") {
			t.Skip("unbounded generators are capped by the output limit, not worth fuzz time")
		}
		_, _ = Render("fuzz", text, map[string][]byte{"a": []byte("dmFsdWU=")})
	})
}
