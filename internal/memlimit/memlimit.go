// Package memlimit sets the Go collector's soft memory limit from the
// container's memory limit, so that the operator collects harder before the
// kernel would kill it, without a GOMEMLIMIT the chart would have to compute.
//
// GOMEMLIMIT at the container limit itself leaves no room for what the Go
// runtime does not count (a burst of garbage the collector cannot keep up
// with while it shares the CPU, thread stacks, the binary): at 100,000
// ExternalSecrets a soft limit of 512 MiB was overshot to 583 MiB
// (docs/performance.md). A fraction of it does.
package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultRatio is the share of the container's limit given to the collector,
// as Prometheus's --auto-gomemlimit.ratio does.
const DefaultRatio = 0.9

// CgroupFiles are where a container's memory limit is read: cgroup v2, then v1.
var CgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// noLimit is what cgroup v1 reports for an unlimited container (the largest
// page-aligned int64); anything this large is no limit.
const noLimit = 1 << 62

// Setting is what Apply decided: the soft limit in bytes (0: none set) and why.
type Setting struct {
	// Limit is the soft memory limit set, in bytes; 0 when none was set.
	Limit int64
	// From says where the limit came from, or why none was set.
	From string
}

// Apply sets the soft memory limit to ratio times the container's memory
// limit read from the first of files that exists. It sets nothing when
// GOMEMLIMIT is set (the user's value wins), when ratio is 0, or when the
// container has no limit.
func Apply(ratio float64, files []string) (Setting, error) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		return Setting{From: "GOMEMLIMIT=" + v}, nil
	}
	if ratio == 0 {
		return Setting{From: "off (ratio 0)"}, nil
	}
	if ratio < 0 || ratio > 1 {
		return Setting{}, fmt.Errorf("the ratio of the memory limit must be between 0 and 1, not %g", ratio)
	}
	limit, file, err := containerLimit(files)
	if err != nil {
		return Setting{}, err
	}
	if limit == 0 {
		return Setting{From: "no container memory limit"}, nil
	}
	soft := int64(float64(limit) * ratio)
	debug.SetMemoryLimit(soft)
	return Setting{Limit: soft, From: fmt.Sprintf("%g of %d bytes in %s", ratio, limit, file)}, nil
}

// containerLimit reads the memory limit from the first of files that exists;
// 0 when there is none.
func containerLimit(files []string) (int64, string, error) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, f, fmt.Errorf("read the container's memory limit: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, f, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, f, fmt.Errorf("the container's memory limit in %s is not a number of bytes: %w", f, err)
		}
		if n <= 0 || n >= noLimit {
			return 0, f, nil
		}
		return n, f, nil
	}
	return 0, "", nil
}
