package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
)

// Main starts the servers for a package's integration tests, runs them, stops
// the servers (even when tests fail or panic inside m.Run) and prints the
// servers' logs when something failed. setup runs with the servers up and may
// return a teardown; it is where a suite starts its manager.
func Main(m *testing.M, setup func(ctx context.Context, env *Env) (teardown func(), err error)) int {
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
	code := m.Run()
	teardown()
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
