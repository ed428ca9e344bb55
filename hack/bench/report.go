package main

import (
	"fmt"
	"os"
	"text/tabwriter"
)

// printTable prints the results so far.
func printTable(results []any) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\nN\tpaths\tall Ready s\tp50 s\tp99 s\traw s\tratio\tlogins\treads init\treads cycle\tSecret writes\tstatus writes\tpeak RSS MiB\tCPU s\tidle CPU %\t")
	for _, r := range results {
		if x, ok := r.(*result); ok {
			fmt.Fprintf(w, "%d\t%d\t%.1f\t%.2f\t%.2f\t%.1f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t\n",
				x.N, x.Paths, x.AllReadySeconds, x.P50ReadySeconds, x.P99ReadySeconds, x.RawBaselineSeconds, x.RatioToBaseline,
				x.VaultLogins, x.VaultReadsInitial, x.VaultReadsRefreshCycle, x.SecretWritesUnchangedCycle, x.StatusWritesUnchangedCycle,
				x.PeakRSSMiB, x.CPUSeconds, x.IdleCPUPercent)
		}
	}
	_ = w.Flush()
}
