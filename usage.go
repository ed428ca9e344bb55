package main

import (
	"flag"
	"fmt"
)

// The operator's --help names the subcommands too: they are dispatched by
// the first argument before the operator's flags are parsed, so the flag
// package alone would never mention them.
func init() {
	flag.CommandLine.Usage = usage
}

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprint(out, `usage: baosync [flags]           run the operator
       baosync convert -f FILE|DIR  convert External Secrets Operator manifests to baosync (see docs/migrating-from-eso.md)
       baosync render -f FILE       print the Secret each ExternalSecret of FILE would produce, writing nothing (values masked)

Run "baosync convert -h" or "baosync render -h" for their flags.

Operator flags:
`)
	flag.PrintDefaults()
}
