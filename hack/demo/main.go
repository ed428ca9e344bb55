// Command demo runs baosync's main job end to end on this machine: a local
// kube-apiserver and Vault dev server, the operator as its own process, the
// samples applied with kubectl, and `kubectl describe` telling the story.
//
// With a terminal on stdin it waits for Ctrl-C at the end so that you can look
// around; with CI set or no terminal it tears everything down and exits
// non-zero if any step failed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/baosync/baosync/test/testenv"
)

func main() {
	ctrl.SetLogger(logr.Discard()) // envtest logs nothing the user needs here
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{
		out:         os.Stdout,
		operatorBin: filepath.Join(testenv.BinDir(), "baosync"),
		interactive: os.Getenv("CI") == "" && isTerminal(os.Stdin),
	}
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
