package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// OperatorProcess is bin/baosync (or another build) running as its own
// process, acting as the operator's ServiceAccount.
type OperatorProcess struct {
	// MetricsAddr is host:port of its metrics endpoint: plain HTTP, since
	// StartOperator passes --metrics-secure=false unless the flags say otherwise.
	MetricsAddr string
	// LogPath is the file it logs to.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
}

// BuildOperator builds the operator from this tree into dir and returns its path.
func BuildOperator(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "baosync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build operator: %w\n%s", err, out)
	}
	return bin, nil
}

// StartOperator starts bin against the environment with extra flags. name
// distinguishes the log files of several replicas. Metrics are served over
// plain HTTP (--metrics-secure=false) for the benchmark's and demo's scrapes;
// pass --metrics-secure=true among flags for the production HTTPS endpoint.
func (e *Env) StartOperator(ctx context.Context, bin, name string, flags ...string) (*OperatorProcess, error) {
	return e.StartOperatorWithEnv(ctx, bin, name, nil, flags...)
}

// StartOperatorWithEnv is StartOperator with extra environment variables
// (e.g. GOMEMLIMIT=120MiB) for the operator process only.
func (e *Env) StartOperatorWithEnv(ctx context.Context, bin, name string, env []string, flags ...string) (*OperatorProcess, error) {
	kubeconfig, err := e.OperatorKubeconfig(ctx)
	if err != nil {
		return nil, err
	}
	port, err := FreePortPair()
	if err != nil {
		return nil, err
	}
	metrics := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{"--kubeconfig", kubeconfig, "--metrics-bind-address", metrics, "--metrics-secure=false",
		"--health-probe-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1))}, flags...)
	return StartProcess(bin, filepath.Join(e.Dir, name+".log"), metrics, env, args...)
}

// StartProcess starts the operator binary bin with args as they are, logging
// to logPath, with extra environment variables env; metricsAddr is where the
// args make it serve metrics. The process dies with the test binary.
func StartProcess(bin, logPath, metricsAddr string, env []string, args ...string) (*OperatorProcess, error) {
	o := &OperatorProcess{MetricsAddr: metricsAddr, LogPath: logPath, done: make(chan struct{})}
	logf, err := os.Create(o.LogPath)
	if err != nil {
		return nil, fmt.Errorf("create operator log: %w", err)
	}
	o.cmd = exec.Command(bin, args...)
	o.cmd.Env = append(os.Environ(), env...)
	o.cmd.Stdout, o.cmd.Stderr = logf, logf
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := o.cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start operator: %w", err)
	}
	go func() { _ = o.cmd.Wait(); _ = logf.Close(); close(o.done) }()
	return o, nil
}

// Pid is the process ID.
func (o *OperatorProcess) Pid() int { return o.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to 15s, then kills.
func (o *OperatorProcess) Stop() {
	if o == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(15 * time.Second):
		o.Kill()
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (o *OperatorProcess) Kill() {
	_ = o.cmd.Process.Kill()
	<-o.done
}

// Exited reports whether the process has ended.
func (o *OperatorProcess) Exited() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// PeakRSSMiB reads VmHWM (peak resident set size) from /proc.
func (o *OperatorProcess) PeakRSSMiB() float64 { return procStatusKiB(o.Pid(), "VmHWM:") / 1024 }

// RSSMiB reads VmRSS (current resident set size) from /proc.
func (o *OperatorProcess) RSSMiB() float64 { return procStatusKiB(o.Pid(), "VmRSS:") / 1024 }

// CPUSeconds reads user+system CPU time from /proc/PID/stat.
func (o *OperatorProcess) CPUSeconds() float64 { return ProcessCPUSeconds(o.Pid()) }

// ProcessCPUSeconds reads a process's user+system CPU time from /proc/PID/stat.
func ProcessCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

func procStatusKiB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseFloat(f[1], 64)
				return v
			}
		}
	}
	return 0
}

// FindProcesses returns the PIDs of processes whose executable is named name
// (e.g. kube-apiserver), for CPU accounting in the benchmark.
func FindProcesses(name string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(b)) == name {
			pids = append(pids, pid)
		}
	}
	return pids
}
