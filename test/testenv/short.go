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

// Short runs, under `go test -short`, only the package's pure tests (those
// in its *_unit_test.go files) without starting or building any server, and
// reports whether it did; code is m.Run's. Integration suites call it first
// in TestMain (Main does).
func Short(m *testing.M) (code int, short bool) {
	if !flag.Parsed() {
		flag.Parse()
	}
	if !testing.Short() {
		return 0, false
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

// unitTests lists the test functions of the *_unit_test.go files in dir.
func unitTests(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, unitFiles))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", unitFiles, err)
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
