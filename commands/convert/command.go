package convert

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// Command is `baosync convert -f FILE`: ESO YAML in (- reads stdin), baosync
// YAML on stdout, one warning per dropped field or skipped object on stderr.
// It returns the exit code: 0 when the input was read, 1 on errors, 2 on usage.
func Command(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baosync convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "-", "ESO manifests to convert (- reads stdin)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			fmt.Fprintf(stderr, "baosync convert: %v\n", err)
			return 1
		}
		defer func() { _ = f.Close() }()
		in = f
	}
	warnings, err := Convert(in, stdout)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "baosync convert: %v\n", err)
		return 1
	}
	return 0
}
