// Command bench measures baosync at scale on this machine: a real kube-apiserver
// and Vault dev server, a counting proxy in front of Vault, the operator as its
// own process, N ExternalSecrets over P paths in 50 namespaces among unrelated
// Secrets and ConfigMaps. It prints a table and writes JSON (see README.md).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// config holds the flags.
type config struct {
	sizes       []int
	pathRatios  []int
	namespaces  int
	unrelated   int
	configMaps  int
	refresh     time.Duration
	workers     int
	out         string
	memoryCheck bool
	outage      time.Duration
	soak        time.Duration
	operatorArg string
	memLimit    string
	esoCompat   bool
	approle     bool
	tenancy     bool
	instant     bool // instead of the scenarios: instant updates
	instantFeed bool // with instant: the change feed (else polling)
	restart     bool // instead of the scenarios: an operator restart at scale
	heapProfile string
}

func main() {
	ctrl.SetLogger(logr.Discard()) // envtest logs nothing the user needs here
	var c config
	var sizes, ratios string
	flag.StringVar(&sizes, "n", "1000,5000,10000", "ExternalSecret counts, comma-separated")
	flag.StringVar(&ratios, "paths", "10,1", "objects per Vault path, comma-separated (10: P=N/10; 1: P=N)")
	flag.IntVar(&c.namespaces, "namespaces", 50, "namespaces the ExternalSecrets spread over")
	flag.IntVar(&c.unrelated, "unrelated-secrets", 10000, "unrelated Secrets baosync must not pay for")
	flag.IntVar(&c.configMaps, "configmaps", 1000, "unrelated ConfigMaps")
	flag.DurationVar(&c.refresh, "refresh", 60*time.Second, "refreshInterval of every ExternalSecret")
	flag.IntVar(&c.workers, "client-workers", 32, "concurrent creates of the benchmark client (and of the raw baseline)")
	flag.StringVar(&c.out, "out", "", "JSON output (default bench/results/<timestamp>.json)")
	flag.BoolVar(&c.memoryCheck, "memory-check", true, "after the first scenario, add 200 unrelated 1 MiB Secrets and report the operator's RSS before and after")
	flag.DurationVar(&c.outage, "outage", 0, "after the refresh cycle, cut Vault off for this long and measure requests and recovery (0: skip)")
	flag.DurationVar(&c.soak, "soak", 0, "instead of the scenarios: soak the first size with this refresh interval for -soak-for (0: no soak)")
	flag.StringVar(&c.operatorArg, "operator-args", "", "extra operator flags, space-separated (e.g. --refresh-status=Always)")
	flag.StringVar(&c.memLimit, "operator-gomemlimit", "", "GOMEMLIMIT of the operator process only: the soft limit the operator sets itself in a container with a memory limit (--gomemlimit-ratio, 90% of it: 922MiB for the chart's 1Gi)")
	flag.BoolVar(&c.esoCompat, "eso-compat", false, "create External Secrets Operator's objects (ESO v1.3.2's CRDs) instead of baosync's, served by the operator with --eso-compat")
	flag.BoolVar(&c.tenancy, "tenancy", false, "one ClusterSecretStore with spec.tenancy: each namespace logs in with its own ServiceAccount (Kubernetes auth, one role with a templated policy) and reads only bench/<namespace>/")
	flag.StringVar(&c.heapProfile, "heap-profile", "", "directory: save the operator's heap profile once every object is Ready (its pprof endpoint opened on a local port) and print what holds the live heap")
	soakFor := flag.Duration("soak-for", 10*time.Minute, "with -soak: how long to run")
	flag.BoolVar(&c.approle, "dynamic-approle", false, "with -dynamic-lease-ttl: the generator logs in by AppRole with tokens of a third of the lease TTL (max 24 lease TTLs), as in production, instead of with the root token")
	noisy := flag.Bool("noisy", false, "instead of the scenarios: the first size in quiet namespaces, alone and then beside one namespace hammering the operator; p50/p99 time to Ready side by side")
	instant := flag.Bool("instant", false, "instead of the scenarios: instant updates. The first size over -paths with the change feed on (Vault's socket audit device streaming to the operator); write 10 paths and time each to its Secrets' update, and count Vault requests at rest. With -instant-poll, the same by polling at -refresh instead")
	flag.BoolVar(&c.restart, "restart", false, "instead of the scenarios: sync the first size, restart the operator, and measure until the new one has reconciled every object (time, Vault reads, API writes, memory)")
	instantPoll := flag.Bool("instant-poll", false, "with -instant: poll at -refresh instead of listening to the audit stream, for comparison")
	dynamic := flag.Duration("dynamic-lease-ttl", 0, "instead of the scenarios: the first size of ExternalSecrets on database credentials with this lease TTL, standing for 1h (0: skip; e.g. 60s)")
	flag.Parse()
	var err error
	if c.sizes, err = ints(sizes); err != nil {
		fail(err)
	}
	if c.pathRatios, err = ints(ratios); err != nil {
		fail(err)
	}
	if c.out == "" {
		c.out = filepath.Join("bench", "results", time.Now().UTC().Format("20060102T150405Z")+".json")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *instant {
		c.instant, c.instantFeed = true, !*instantPoll
	}
	if single(ctx, c, *dynamic, *soakFor, *noisy) {
		return
	}
	var results []any
	first := true
	for _, n := range c.sizes {
		for _, ratio := range c.pathRatios {
			s := scenario{cfg: c, n: n, paths: max(1, n/ratio), memoryCheck: c.memoryCheck && first}
			res, err := s.run(ctx)
			if err != nil {
				fail(fmt.Errorf("scenario n=%d paths=%d: %w", n, s.paths, err))
			}
			first = false
			results = append(results, res)
			printTable(results)
			write(c.out, results)
		}
	}
}

// single runs, instead of the scenarios, the noisy-neighbour run, the
// dynamic-secrets scenario or the soak; false when none was asked for.
func single(ctx context.Context, c config, dynamicTTL, soakFor time.Duration, noisy bool) bool {
	var res any
	var err error
	switch {
	case c.instant:
		res, err = runInstant(ctx, c, c.instantFeed)
	case c.restart:
		res, err = runRestart(ctx, c)
	case noisy:
		res, err = runNoisy(ctx, c)
	case dynamicTTL > 0:
		res, err = runDynamic(ctx, c, dynamicTTL)
	case c.soak > 0:
		res, err = runSoak(ctx, c, c.soak, soakFor)
	default:
		return false
	}
	if err != nil {
		fail(err)
	}
	write(c.out, []any{res})
	return true
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func write(path string, v any) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail(err)
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		fail(err)
	}
	fmt.Printf("wrote %s\n", path)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}
