package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresServer is a PostgreSQL server from the system's packages (Debian's
// postgresql), run as a plain process on 127.0.0.1 with its data directory
// under the test's directory. Connections over TCP need a password (SCRAM),
// so that a login test means something; the superuser is "postgres".
type PostgresServer struct {
	// Port it listens on, on 127.0.0.1.
	Port int
	// Password of the superuser "postgres".
	Password string
	// LogPath is the file the server logs to.
	LogPath string

	cmd  *exec.Cmd
	done chan error
}

// postgresBinDir finds the directory of initdb and postgres: PG_BINDIR, or the
// newest /usr/lib/postgresql/<version>/bin.
func postgresBinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", errors.New("PostgreSQL not installed: apt-get install -y postgresql (or set PG_BINDIR)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// StartPostgres initialises a cluster in dir/postgres and starts the server.
// PostgreSQL refuses to run as root, so under root the server runs as nobody,
// with the directories it needs handed to that user.
func StartPostgres(ctx context.Context, dir string) (*PostgresServer, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	port, err := FreePortPair()
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, "postgres")
	s := &PostgresServer{Port: port, Password: "pg-" + strconv.Itoa(port), LogPath: filepath.Join(dir, "postgres.log"),
		done: make(chan error, 1)}
	cred, err := prepareDirs(base)
	if err != nil {
		return nil, err
	}
	pwfile := filepath.Join(base, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write postgres pwfile: %w", err)
	}
	if err := chownTo(cred, pwfile); err != nil {
		return nil, err
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(base, "data"), "-U", "postgres",
		"--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-N", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := s.start(ctx, bin, base, cred); err != nil {
		return nil, err
	}
	return s, nil
}

// start runs the server and waits until it accepts a login.
func (s *PostgresServer) start(ctx context.Context, bin, base string, cred *syscall.Credential) error {
	logf, err := os.Create(s.LogPath)
	if err != nil {
		return fmt.Errorf("create postgres log: %w", err)
	}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(base, "data"), "-k", filepath.Join(base, "sock"),
		"-p", strconv.Itoa(s.Port), "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200")
	s.cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Killed with the test process, even if that is killed itself.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true, Credential: cred}
	if err := s.cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() { s.done <- s.cmd.Wait(); _ = logf.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		err := s.TryLogin(ctx, "postgres", s.Password)
		if err == nil {
			return nil
		}
		select {
		case err2 := <-s.done:
			s.done <- err2
			return fmt.Errorf("postgres exited before it was ready: %w; see %s", err2, s.LogPath)
		case <-ctx.Done():
			_ = s.Stop()
			return fmt.Errorf("postgres not ready after 60s: %w; see %s", err, s.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// prepareDirs creates base and its socket directory. Under root it returns the
// credential of nobody, owns base to it and lets it traverse base's parents
// (test directories are created 0700).
func prepareDirs(base string) (*syscall.Credential, error) {
	if err := os.MkdirAll(filepath.Join(base, "sock"), 0o700); err != nil {
		return nil, fmt.Errorf("create postgres dir: %w", err)
	}
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("postgres cannot run as root and user nobody is missing: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} //nolint:gosec // G115: ids from /etc/passwd fit
	for d := filepath.Dir(base); d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(d, fi.Mode().Perm()|0o011)
		}
	}
	if err := chownTo(cred, base, filepath.Join(base, "sock")); err != nil {
		return nil, err
	}
	return cred, nil
}

// chownTo hands paths to cred's user; without a credential it does nothing.
func chownTo(cred *syscall.Credential, paths ...string) error {
	if cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
	}
	return nil
}

// DSN is a connection URL for user and password to database postgres. Vault's
// database engine takes it with {{username}} and {{password}} placeholders.
func (s *PostgresServer) DSN(user, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/postgres", RawQuery: "sslmode=disable"}
	return u.String()
}

// TryLogin connects as user with password and runs a query; nil means the
// credential works.
func (s *PostgresServer) TryLogin(ctx context.Context, user, password string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN(user, password))
	if err != nil {
		return fmt.Errorf("login as %s: %w", user, err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("query as %s: %w", user, err)
	}
	return nil
}

// RoleExists reports whether a role of that name is in pg_roles.
func (s *PostgresServer) RoleExists(ctx context.Context, role string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres", s.Password))
	if err != nil {
		return false, fmt.Errorf("login as postgres: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", role).Scan(&n); err != nil {
		return false, fmt.Errorf("query pg_roles: %w", err)
	}
	return n > 0, nil
}

// Stop terminates the server by PID: SIGINT (PostgreSQL's fast shutdown,
// which does not wait for Vault's pooled connections to close), then SIGKILL
// after 10s.
func (s *PostgresServer) Stop() error {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	// The exit status of a stopped server says nothing the caller needs.
	select {
	case <-s.done: //nolint:errcheck // see above
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done //nolint:errcheck // see above
	}
	return nil
}
