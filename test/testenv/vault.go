package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/openbao/openbao/api/v2"
)

// VaultServer is a Vault server in dev mode (in-memory, unsealed, a KV v2 mount
// at secret/) listening on 127.0.0.1.
type VaultServer struct {
	// Addr is the server's URL, e.g. http://127.0.0.1:41234.
	Addr string
	// Token is the root token.
	Token string
	// LogPath is the file the server logs to.
	LogPath string
	// CACert is the PEM CA that signed the server's certificate (TLS only).
	CACert []byte

	cmd  *exec.Cmd
	done chan error
}

// VaultOptions changes how the dev server starts.
type VaultOptions struct {
	// Dir holds the log file and the server's HOME.
	Dir string
	// Port to listen on; 0 picks a free one (the server also binds Port+1).
	Port int
	// TLS serves https with a CA and certificate the server generates.
	TLS bool
}

// StartVault starts the dev server and waits until a KV v2 write succeeds.
func StartVault(ctx context.Context, o VaultOptions) (*VaultServer, error) {
	bin := filepath.Join(BinDir(), "vault")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("vault binary missing at %s: run `make tools` (hack/tools/build.sh vault): %w", bin, err)
	}
	port := o.Port
	if port == 0 {
		var err error
		if port, err = FreePortPair(); err != nil {
			return nil, err
		}
	}
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	s := &VaultServer{
		Addr:    scheme + "://127.0.0.1:" + strconv.Itoa(port),
		Token:   "root-" + strconv.Itoa(port),
		LogPath: filepath.Join(o.Dir, "vault.log"),
		done:    make(chan error, 1),
	}
	logf, err := os.Create(s.LogPath)
	if err != nil {
		return nil, fmt.Errorf("create vault log: %w", err)
	}
	args := []string{"server", "-dev", "-dev-root-token-id=" + s.Token,
		"-dev-listen-address=127.0.0.1:" + strconv.Itoa(port), "-dev-no-store-token"}
	tlsDir := filepath.Join(o.Dir, "tls")
	if o.TLS {
		if err := os.MkdirAll(tlsDir, 0o700); err != nil {
			return nil, fmt.Errorf("create TLS dir: %w", err)
		}
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+tlsDir)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = []string{"HOME=" + o.Dir, "PATH=/usr/bin:/bin", "VAULT_LOG_LEVEL=info"}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Kill the server with the test process, even if it is killed itself.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start vault: %w", err)
	}
	go func() { s.done <- s.cmd.Wait(); _ = logf.Close() }()
	if o.TLS {
		if s.CACert, err = waitFile(ctx, filepath.Join(tlsDir, "vault-ca.pem")); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls until a KV v2 write on secret/ succeeds.
func (s *VaultServer) waitReady(ctx context.Context) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		_, err := c.Logical().WriteWithContext(ctx, "secret/data/testenv-ready", map[string]any{"data": map[string]any{"ok": "yes"}})
		if err == nil {
			return nil
		}
		select {
		case err2 := <-s.done:
			s.done <- err2
			return fmt.Errorf("vault exited before it was ready: %w; see %s", err2, s.LogPath)
		case <-ctx.Done():
			return fmt.Errorf("vault not ready after 60s: %w; see %s", err, s.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Client returns a client with the root token. It reads no environment.
func (s *VaultServer) Client() (*api.Client, error) {
	cfg := api.NewConfig()
	cfg.Address = s.Addr
	cfg.Timeout = 10 * time.Second
	if len(s.CACert) > 0 {
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACertBytes: s.CACert}); err != nil {
			return nil, fmt.Errorf("vault client TLS: %w", err)
		}
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	c.SetToken(s.Token)
	return c, nil
}

// Stop terminates the server by PID (SIGTERM, then SIGKILL after 10s).
func (s *VaultServer) Stop() error {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	// The exit status of a server stopped by a signal says nothing: it is dropped.
	select {
	case <-s.done: //nolint:errcheck // see above
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done //nolint:errcheck // see above
	}
	return nil
}

// waitFile waits up to 30s for a file the server writes at start-up.
func waitFile(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s did not appear: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// FreePortPair returns a free loopback port whose successor is free too (the
// dev server binds its cluster listener on port+1).
func FreePortPair() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		_ = l.Close()
		if err == nil {
			_ = l2.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free pair of loopback ports found")
}
