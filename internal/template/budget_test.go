package template

import (
	"errors"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile are the worst templates we could write against each bound, by the
// bound they hit. Each must end as an *Error.
var hostile = []struct{ name, text string }{
	{"nested ranges over huge integers", `{{range 1000000000}}{{range 1000000000}}{{end}}{{end}}`},
	{"a range writing text for ever", `{{range 1000000000}}x{{end}}`},
	{"a range with empty branches", `{{range 1000000000}}{{if false}}{{else}}{{with 0}}{{end}}{{end}}{{end}}`},
	{"exponential template recursion", `{{define "x"}}{{template "x" .}}{{template "x" .}}{{end}}{{template "x" .}}`},
	{"deep template recursion", `{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}`},
	{"repeat bomb", `{{ "x" | repeat 1000000000 }}`},
	{"nested repeat bomb", `{{ repeat 1000 (repeat 1000 (repeat 1000 "xx")) }}`},
	{"until bomb", `{{ until 1000000000 }}`},
	{"ranging over until", `{{ range until 100000000 }}{{ end }}`},
	{"untilStep that overflows", `{{ untilStep 0 9223372036854775807 4611686018427387904 }}`},
	{"seq bomb", `{{ seq 1000000000 }}`},
	{"seq counting down", `{{ seq -1000000000000 }}`},
	{"indent bomb", `{{ indent 1000000000 "x" }}`},
	{"nindent over many lines", `{{ nindent 100000 (repeat 100000 "\n") }}`},
	{"replace with an empty old", `{{ replace "" (repeat 1000 "x") (repeat 100000 "y") }}`},
	{"wrapWith bomb", `{{ wrapWith 1 (repeat 100000 "x") (repeat 100000 "y") }}`},
	{"join bomb", `{{ join (repeat 100000 "x") (until 10000) }}`},
	{"printf width", `{{ printf "%999999999d" 1 }}`},
	{"printf star width", `{{ printf "%*d" 999999999 1 }}`},
	{"printf reusing one argument", `{{ printf (repeat 10000 "%[1]s") (repeat 100000 "x") }}`},
	{"append in a loop then toJson", `{{ $l := list }}{{ range 1000000 }}{{ $l = append $l "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }}{{ end }}{{ toJson $l }}`},
	{"printing a list aliasing a map", `{{ $d := dict }}{{ $l := list }}{{ range 1000 }}{{ $l = append $l $d }}{{ end }}{{ $_ := set $d "a" (repeat 100000 "x") }}{{ $l }}`},
	{"a map holding itself", `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}`},
	{"lists nested for indentation", `{{ $l := list "x" }}{{ range 100 }}{{ $l = list $l $l }}{{ end }}{{ toPrettyJson $l }}`},
	{"ranging over a big map again and again", `{{ $d := dict }}{{ range $i := until 10000 }}{{ $_ := set $d (toString $i) "" }}{{ end }}{{ range 100000 }}{{ range $d }}{{ end }}{{ end }}`},
	{"output bomb", `{{ range 100000 }}{{ repeat 1000 "x" }}{{ end }}`},
	{"js escaping in a loop", `{{ $x := repeat 200000 "<" }}{{ range 100000 }}{{ $y := js $x }}{{ end }}`},
	{"hashing a MiB in a loop", `{{ $x := repeat 1000000 "x" }}{{ range 1000000 }}{{ $y := sha256sum $x }}{{ end }}`},
	{"randAlphaNum length", `{{ randAlphaNum 1000000000 }}`},
	{"randAlphaNum in a loop", `{{ range 1000000 }}{{ $x := randAlphaNum 10000 }}{{ end }}`},
	{"randBytes length", `{{ randBytes 1000000000 }}`},
	{"genPrivateKey ecdsa in a loop", `{{ range 100 }}{{ $k := genPrivateKey "ecdsa" }}{{ end }}`},
	{"genPrivateKey rsa in a loop", `{{ range 100 }}{{ $k := genPrivateKey "rsa" }}{{ end }}`},
	{"genPrivateKey dsa", `{{ genPrivateKey "dsa" }}`},
	{"genCA in a loop", `{{ range 100 }}{{ $ca := genCA "x" 1 }}{{ end }}`},
	{"bcrypt in a loop", `{{ range 100 }}{{ $h := bcrypt "x" }}{{ end }}`},
	{"htpasswd in a loop", `{{ range 100 }}{{ $h := htpasswd "u" "p" }}{{ end }}`},
	{"derivePassword in a loop", `{{ range 100 }}{{ $p := derivePassword 1 "long" "pw" "user" "site" }}{{ end }}`},
	{"regular expression program bomb", `{{ regexMatch (repeat 100 "(?:x{30}){30}") (repeat 100000 "y") }}`},
	{"regular expression replacement bomb", `{{ regexReplaceAll "" (repeat 100000 "y") (repeat 1000 "z") }}`},
	{"regexFindAll of every position", `{{ regexFindAll "" (repeat 1000000 "y") -1 }}`},
	{"splitList into runes", `{{ splitList "" (repeat 1000000 "x") }}`},
	{"fromJson of many objects", `{{ fromJson (printf "[%s0]" (repeat 300000 "{},")) }}`},
	{"uniq of a long list", `{{ uniq (until 10000) }}`},
	{"a MiB argument", `{{ $x := repeat 1100000 "x" }}{{ upper $x }}`},
}

// TestRender_HostileTemplatesEndWithinBudget runs each hostile template and
// checks that it ends as an *Error, in bounded time (generously: the machine
// may be busy) and with bounded live heap.
func TestRender_HostileTemplatesEndWithinBudget(t *testing.T) {
	const maxTime, maxHeap = 20 * time.Second, 64 << 20
	data := map[string][]byte{"pw": []byte("s3cr3t-value")}
	for _, c := range hostile {
		t.Run(c.name, func(t *testing.T) {
			var err error
			start := time.Now()
			peak, total := measure(func() { _, err = Render("t", c.text, data) })
			took := time.Since(start)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("want an *Error, got %v", err)
			}
			t.Logf("%v, peak heap +%d KiB, allocated %d MiB: %v", took.Round(time.Millisecond), peak>>10, total>>20, err)
			if took > maxTime {
				t.Errorf("took %v, want under %v", took, maxTime)
			}
			if peak > maxHeap {
				t.Errorf("the heap grew by %d MiB, want under %d MiB", peak>>20, maxHeap>>20)
			}
		})
	}
}

// TestRender_BudgetErrorsAreMarked checks that callers can tell a template
// that exceeded its budget (terminal) from one that failed on the data.
func TestRender_BudgetErrorsAreMarked(t *testing.T) {
	cases := []struct {
		text   string
		budget bool
		want   string
	}{
		{`{{range 1000000000}}{{end}}`, true, "evaluation budget exceeded: steps"},
		{`{{ "x" | repeat 1000000000 }}`, true, "at <repeat 1000000000>: repeat would allocate"},
		{`{{ printf "%999999999d" 1 }}`, true, "printf widths"},
		{`{{ range 100000 }}{{ repeat 1000 "x" }}{{ end }}`, true, "output exceeds 1048576 bytes"},
		{`{{ .missing }}`, false, `map has no entry for key "missing"`},
		{`{{ fail "no" }}`, false, `at <fail "no">: error calling fail: <redacted>`},
	}
	for _, c := range cases {
		_, err := Render("t", c.text, map[string][]byte{})
		var te *Error
		if !errors.As(err, &te) || te.Budget != c.budget || te.Parse || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an *Error with Budget=%v containing %q, got %#v", c.text, c.budget, c.want, err)
		}
	}
}

// measure runs f and returns the peak growth of the heap's objects (live
// and not yet swept) and the bytes allocated in all.
func measure(f func()) (peak, total uint64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base, high := sample[0].Value.Uint64(), uint64(0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: sample[0].Name}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			high = max(high, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	runtime.ReadMemStats(&after)
	if high > base {
		peak = high - base
	}
	return peak, after.TotalAlloc - before.TotalAlloc
}

// FuzzRender_BudgetHolds checks that no template, however built, runs past
// the deadline (plus slack for one expensive call in flight and a busy
// machine) or panics.
func FuzzRender_BudgetHolds(f *testing.F) {
	for _, s := range []string{"{{ .a }}", "{{ .a | b64dec }}", "{{", "{{ range $k, $v := . }}{{ $k }}{{ end }}", `{{ "x" | repeat 5 }}`} {
		f.Add(s)
	}
	for _, c := range hostile {
		if !strings.Contains(c.text, "rsa") { // seconds each: leave it to the table
			f.Add(c.text)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		start := time.Now()
		_, _ = Render("fuzz", text, map[string][]byte{"a": []byte("dmFsdWU=")})
		if took := time.Since(start); took > evalTimeout+10*time.Second {
			t.Fatalf("took %v", took)
		}
	})
}
