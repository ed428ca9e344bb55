package testenv

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// unitFiles are where a package keeps its pure tests: tables that need no
// server, run by `go test -short` on a fresh clone without building anything.
const unitFiles = "*_unit_test.go"

// testFunc finds the top-level test functions of a file.
var testFunc = regexp.MustCompile(`(?m)^func (Test\w*)\(\w+ \*testing\.T\)`)

// WithoutServers runs the tests without starting or building any server
// when they need none, and reports whether it did; code is m.Run's.
// Integration suites call it first in TestMain (Main does). They need none
// under `go test -short`, which runs only the package's pure tests (those in
// its *_unit_test.go files), and when -run selects only pure tests
// (noServerNeeded).
func WithoutServers(m *testing.M) (code int, ran bool) {
	if !flag.Parsed() {
		flag.Parse()
	}
	if !testing.Short() {
		return noServerNeeded(m)
	}
	names, err := unitTests(".")
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1, true
	}
	run := flag.Lookup("test.run")
	if asked := run.Value.String(); asked != "" {
		names = matching(names, asked)
	}
	pattern := "^$" // none: the package has no pure test
	if len(names) > 0 {
		pattern = "^(" + strings.Join(names, "|") + ")$"
	}
	if err := run.Value.Set(pattern); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1, true
	}
	fmt.Fprintf(os.Stderr, "testenv: -short runs the %d pure tests of *_unit_test.go; the integration tests need `go test` without -short\n", len(names))
	return m.Run(), true
}

// noServerNeeded runs the tests when every test a -run pattern selects is a
// pure one (in a *_unit_test.go file), and reports whether it did. So `go
// test -run TestDecode` in an integration package runs in a second: servers
// start only for a selection that holds an integration test.
func noServerNeeded(m *testing.M) (code int, ran bool) {
	asked := flag.Lookup("test.run").Value.String()
	if asked == "" {
		return 0, false
	}
	all, err := testsIn(".", "*_test.go")
	if err != nil {
		return 0, false // Main starts the servers, as without a pattern
	}
	unit, err := unitTests(".")
	if err != nil {
		return 0, false
	}
	pure := map[string]bool{}
	for _, n := range unit {
		pure[n] = true
	}
	selected := matching(all, asked)
	if len(selected) == 0 {
		return 0, false // no test of its own selected (-bench, -fuzz, a binary run elsewhere): as without a pattern
	}
	for _, n := range selected {
		if !pure[n] {
			return 0, false
		}
	}
	fmt.Fprintf(os.Stderr, "testenv: -run %q selects only pure tests; no server started\n", asked)
	return m.Run(), true
}

// unitTests lists the test functions of the *_unit_test.go files in dir.
func unitTests(dir string) ([]string, error) { return testsIn(dir, unitFiles) }

// testsIn lists the test functions of the files in dir matching glob.
func testsIn(dir, glob string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", glob, err)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		for _, m := range testFunc.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	sort.Strings(names)
	return names, nil
}

// matching keeps the names a -run pattern selects at the top level.
func matching(names []string, pattern string) []string {
	top, _, _ := strings.Cut(pattern, "/")
	re, err := regexp.Compile(top)
	if err != nil {
		return names // go test reports the pattern itself
	}
	var out []string
	for _, n := range names {
		if re.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}
