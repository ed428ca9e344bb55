package template

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestRender_ErrorsCarryNoValueInAnyEncoding feeds a secret through every
// encoding a template can apply and into every kind of failure, and checks
// that the error holds neither the value nor any encoding or part of it.
func TestRender_ErrorsCarryNoValueInAnyEncoding(t *testing.T) {
	const pw = "Zq7-Hunter2-Secret-xK9"
	texts := []string{
		`{{ fail .pw }}`,
		`{{ .pw | b64enc | fail }}`,
		`{{ .pw | b64enc | b64enc | fail }}`,
		`{{ .pw | b64enc | b64dec | fail }}`,
		`{{ .pw | sha256sum | fail }}`,
		`{{ printf "%x" .pw | fail }}`,
		`{{ printf "%X" .pw | fail }}`,
		`{{ printf "%q" .pw | fail }}`,
		`{{ printf "%v" .pw | fail }}`,
		`{{ printf "%d" .pw | fail }}`,
		`{{ quote .pw | fail }}`,
		`{{ upper .pw | fail }}`,
		`{{ toJson .pw | fail }}`,
		`{{ urlquery .pw | fail }}`,
		`{{ html .pw | fail }}`,
		`{{ js .pw | fail }}`,
		`{{ dict .pw 1 | toJson | fail }}`,
		`{{ index (dict .pw 1) 1 }}`,
		`{{ keys (dict .pw 1) | fail }}`,
		`{{ (dict .pw 1).x }}`,
		`{{ if not (hasKey . .pw) }}{{ fail (printf "no key %s" .pw) }}{{ end }}`,
		`{{ range .pw }}{{ end }}`,
		`{{ with .pw }}{{ .x }}{{ end }}`,
		`{{ if (list .pw) }}{{ .pw.x }}{{ end }}`,
		`{{ eq .pw 1 }}`,
		`{{ call .pw }}`,
		`{{ mustToDate "2006" .pw }}`,
		`{{ mustFromJson .pw }}`,
		`{{ mustRegexMatch (printf "(%s" .pw) "x" }}`,
		`{{ semver .pw }}`,
		`{{ pemToPkcs12 .pw .pw }}`,
		`{{ pkcs12key .pw }}`,
		`{{ .pw | repeat 1000000 }}`,
		`{{ printf (printf "%%%s" .pw) | fail }}`,
	}
	encodings := []string{
		pw, strings.ToUpper(pw), strings.ToLower(pw), strconv.Quote(pw),
		base64.StdEncoding.EncodeToString([]byte(pw)), base64.URLEncoding.EncodeToString([]byte(pw)),
		base64.RawStdEncoding.EncodeToString([]byte(pw)), base64.RawURLEncoding.EncodeToString([]byte(pw)),
		hex.EncodeToString([]byte(pw)), strings.ToUpper(hex.EncodeToString([]byte(pw))),
		url.QueryEscape(pw), html.EscapeString(pw), sha256hex(pw), jsonQuote(pw),
	}
	for i := 0; i+6 <= len(pw); i++ {
		encodings = append(encodings, pw[i:i+6])
	}
	for _, text := range texts {
		_, err := Render("t", text, map[string][]byte{"pw": []byte(pw)})
		if err == nil {
			t.Errorf("%s: want an error", text)
			continue
		}
		t.Logf("%s: %v", text, err)
		for _, enc := range encodings {
			if strings.Contains(err.Error(), enc) {
				t.Errorf("%s: the error holds %q: %v", text, enc, err)
			}
		}
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
