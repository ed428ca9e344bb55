// Package convert is `baosync convert`: ESO manifests in, baosync manifests out
// (the conversion itself is internal/esoconvert).
package convert

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/baosync/baosync/commands/kubeconfig"
	"github.com/baosync/baosync/internal/esoconvert"
)

// Exit codes of the command.
const (
	exitOK    = 0
	exitFail  = 1 // an input could not be read, or an object was not converted
	exitUsage = 2
)

// files is a repeatable -f flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

// Command is `baosync convert -f FILE|DIR|- [--kubeconfig F]`: ESO YAML in,
// baosync YAML on stdout, one line per dropped field, skipped or refused
// object on stderr. A directory is read recursively (*.yaml, *.yml, *.json),
// like kubectl apply -f. Every converted object is checked offline against
// baosync's CRDs; with --kubeconfig, also by a server-side dry run on that
// cluster. It returns the exit code: 0 when every ESO object of the
// OpenBao/Vault provider was converted, 1 when one was not (or an input
// could not be read, or the cluster could not be reached), 2 on usage errors.
func Command(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("baosync convert", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var in files
	var kubeconfigPath string
	flags.Var(&in, "f", "ESO manifests to convert: a file, a directory (read recursively) or - for stdin; repeatable")
	flags.StringVar(&kubeconfigPath, "kubeconfig", "", "also check each converted object with a server-side dry run on this kubeconfig's cluster (nothing is written)")
	if err := flags.Parse(args); err != nil {
		return exitUsage
	}
	if len(in) == 0 {
		in = files{"-"}
	}
	inputs, err := readInputs(in, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "baosync convert: %v\n", err)
		return exitFail
	}
	var checks []esoconvert.Check
	if kubeconfigPath != "" {
		c, namespace, err := kubeconfig.Client(kubeconfigPath)
		if err != nil {
			fmt.Fprintf(stderr, "baosync convert: %v\n", err)
			return exitFail
		}
		checks = append(checks, esoconvert.ServerDryRun(context.Background(), c, namespace))
	}
	warnings, err := esoconvert.All(inputs, stdout, checks...)
	code := exitOK
	for _, w := range warnings {
		level := "warning"
		if w.Failed {
			level, code = "error", exitFail
		}
		fmt.Fprintf(stderr, "%s: %s\n", level, w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "baosync convert: %v\n", err)
		return exitFail
	}
	return code
}

// readInputs reads every named file, walking directories in lexical order.
func readInputs(names []string, stdin io.Reader) ([]esoconvert.Input, error) {
	var inputs []esoconvert.Input
	for _, name := range names {
		if name == "-" {
			b, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			inputs = append(inputs, esoconvert.Input{Data: b})
			continue
		}
		paths, err := manifestFiles(name)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", p, err)
			}
			inputs = append(inputs, esoconvert.Input{Name: p, Data: b})
		}
	}
	return inputs, nil
}

// manifestFiles returns name itself, or the manifests below a directory.
func manifestFiles(name string) ([]string, error) {
	info, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if !info.IsDir() {
		return []string{name}, nil
	}
	var out []string
	err = filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	sort.Strings(out)
	return out, nil
}
