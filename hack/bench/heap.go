package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/baosync/baosync/test/testenv"
)

// pprofArgs are the operator flags that open its pprof endpoint on a free
// local port, for -heap-profile; none without it.
func (s *scenario) pprofArgs() ([]string, error) {
	if s.cfg.heapProfile == "" {
		return nil, nil
	}
	port, err := testenv.FreePortPair()
	if err != nil {
		return nil, err
	}
	s.pprofAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return []string{"--pprof-bind-address", s.pprofAddr}, nil
}

// heapProfile saves the operator's heap profile after a collection
// (heap-<label>.pb.gz in -heap-profile's directory) and prints what holds the
// live heap (go tool pprof -top, in-use space), for docs/performance.md.
func (s *scenario) heapProfile(ctx context.Context, label string) error {
	if s.pprofAddr == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.pprofAddr+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	if err := os.MkdirAll(s.cfg.heapProfile, 0o750); err != nil {
		return err
	}
	path := filepath.Join(s.cfg.heapProfile, fmt.Sprintf("heap-%d-%s.pb.gz", s.n, label))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=25", path).Output()
	if err != nil {
		return fmt.Errorf("go tool pprof %s: %w", path, err)
	}
	fmt.Printf("    heap profile (%s) saved to %s; what holds the live heap:\n", label, path)
	for _, line := range strings.Split(strings.TrimSpace(string(top)), "\n") {
		fmt.Println("      " + line)
	}
	return nil
}
