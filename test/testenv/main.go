package testenv

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// MainWithEnv is Main for a package whose tests need only the servers: it
// stores the environment in *env before the tests run.
func MainWithEnv(m *testing.M, env **Env) int {
	return Main(m, func(_ context.Context, e *Env) (func(), error) {
		*env = e
		return func() {}, nil
	})
}

// Main starts the servers for a package's integration tests, runs them, stops
// the servers (even when tests fail or panic inside m.Run) and prints the
// servers' logs when something failed. setup runs with the servers up and may
// return a teardown; it is where a suite starts its manager and registers the
// checks that run after every test (Env.AfterTests), such as the leak scan.
//
// Under `go test -short`, or when -run selects only pure tests, it starts
// nothing (see WithoutServers).
func Main(m *testing.M, setup func(ctx context.Context, env *Env) (teardown func(), err error)) int {
	if code, ran := WithoutServers(m); ran {
		return code
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, err := Start(ctx, Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		if env != nil {
			printLogs(env)
		}
		return 1
	}
	defer env.Stop()
	teardown := func() {}
	if setup != nil {
		if teardown, err = setup(ctx, env); err != nil {
			fmt.Fprintf(os.Stderr, "testenv setup: %v\n", err)
			printLogs(env)
			return 1
		}
	}
	widenParallel(integrationParallel)
	code := m.Run()
	teardown()
	if err := env.runAfterTests(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: after the tests: %v\n", err)
		code = 1
	}
	if code != 0 {
		printLogs(env)
	} else {
		_ = os.RemoveAll(env.Dir)
	}
	return code
}

// printLogs prints the last lines of each server log.
func printLogs(env *Env) {
	for _, f := range env.LogFiles() {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := bytes.Split(b, []byte("\n"))
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		fmt.Fprintf(os.Stderr, "---- last lines of %s ----\n%s\n", f, bytes.Join(lines, []byte("\n")))
	}
}

// AfterTests registers a check that Main runs once every test has finished and
// the suite's teardown has stopped the operator, so that it sees all the
// operator emitted. A check's error fails the run. Checks that only mean
// something when every test ran can ask FullRun.
func (e *Env) AfterTests(check func(ctx context.Context) error) {
	e.afterTests = append(e.afterTests, check)
}

// runAfterTests runs the registered checks, each with a bounded context.
func (e *Env) runAfterTests(ctx context.Context) error {
	var errs []error
	for _, check := range e.afterTests {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		errs = append(errs, check(cctx))
		cancel()
	}
	return errors.Join(errs...)
}

// FullRun reports whether the test binary runs every test: no -test.run,
// -test.skip or -test.list filter. Checks that need the whole suite's output
// (a leak scan that must have read enough to mean something) apply only then.
func FullRun() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// integrationParallel is how many t.Parallel tests an integration suite runs
// at once by default. Its tests spend their time waiting on the servers and
// the operator, not on the CPU, so the default of one per CPU leaves a 2-core
// machine idle; much more and the API server's and Vault's CPU becomes the
// limit and waits approach their timeouts.
const integrationParallel = 4

// widenParallel sets -test.parallel to n unless the command line set it.
func widenParallel(n int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
}
