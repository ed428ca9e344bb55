package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LDAPBaseDN is the suffix of the directory StartLDAP serves. Users live under
// ou=people and groups (groupOfNames) under ou=groups.
const LDAPBaseDN = "dc=example,dc=org"

// LDAPServer is OpenLDAP's slapd from the system's packages (Debian's slapd),
// run as a plain process on 127.0.0.1 with a generated slapd.conf and an mdb
// database under the test's directory. Clients bind with a password (simple
// bind), as Vault's ldap auth method does.
type LDAPServer struct {
	// URL is ldap://127.0.0.1:<port>.
	URL string
	// RootDN is the directory's administrator, who may read and write everything.
	RootDN string
	// RootPassword is RootDN's password.
	RootPassword string
	// LogPath is the file the server logs to.
	LogPath string

	dir     string
	cmd     *exec.Cmd
	done    chan struct{} // closed when slapd has exited; waitErr is then set
	waitErr error
}

// ldapSchemas are the schema files slapd.conf includes, in dependency order.
var ldapSchemas = []string{"core", "cosine", "inetorgperson", "nis"}

// LDAPAvailable reports why slapd and ldap-utils cannot be used, or nil.
func LDAPAvailable() error {
	for _, b := range []string{slapdPath(), "ldapadd", "ldapwhoami"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("OpenLDAP not installed (%s: %w): apt-get install -y --no-install-recommends slapd ldap-utils (or set LDAP_SLAPD)", b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(ldapSchemaDir(), "core.schema")); err != nil {
		return fmt.Errorf("OpenLDAP schema files missing: %w", err)
	}
	return nil
}

// LDAPForTest starts slapd in t's temporary directory and stops it when t
// ends. Without OpenLDAP it skips t, except in CI (CI=true), where .ci/run
// installs the package and a missing server is a failure.
func LDAPForTest(t testing.TB) *LDAPServer {
	t.Helper()
	if err := LDAPAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipped: %v", err)
	}
	s, err := StartLDAP(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// slapdPath is LDAP_SLAPD or Debian's /usr/sbin/slapd.
func slapdPath() string {
	if p := os.Getenv("LDAP_SLAPD"); p != "" {
		return p
	}
	return "/usr/sbin/slapd"
}

// ldapSchemaDir is where Debian's slapd installs its schema files.
func ldapSchemaDir() string {
	if d := os.Getenv("LDAP_SCHEMA_DIR"); d != "" {
		return d
	}
	return "/etc/ldap/schema"
}

// StartLDAP writes a configuration and the base entries (the suffix,
// ou=people, ou=groups) to dir/ldap and starts slapd in the foreground.
func StartLDAP(ctx context.Context, dir string) (*LDAPServer, error) {
	if err := LDAPAvailable(); err != nil {
		return nil, err
	}
	port, err := FreePortPair()
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, "ldap")
	if err := os.MkdirAll(filepath.Join(base, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("create ldap dir: %w", err)
	}
	s := &LDAPServer{URL: "ldap://127.0.0.1:" + strconv.Itoa(port), RootDN: "cn=admin," + LDAPBaseDN,
		RootPassword: "ldap-root-" + strconv.Itoa(port), LogPath: filepath.Join(dir, "slapd.log"), dir: base, done: make(chan struct{})}
	conf := filepath.Join(base, "slapd.conf")
	if err := os.WriteFile(conf, []byte(s.config(base)), 0o600); err != nil {
		return nil, fmt.Errorf("write slapd.conf: %w", err)
	}
	// slapadd loads the base entries offline, before the server opens the database.
	add := exec.CommandContext(ctx, slapdPath(), "-T", "add", "-f", conf)
	add.Stdin = strings.NewReader(ldapBaseEntries())
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd: %w\n%s", err, out)
	}
	if err := s.start(ctx, conf); err != nil {
		return nil, err
	}
	return s, nil
}

// config is a slapd.conf with one mdb database for LDAPBaseDN. Anyone may
// bind (that is how users log in); only the root DN reads passwords.
func (s *LDAPServer) config(base string) string {
	var b strings.Builder
	for _, name := range ldapSchemas {
		fmt.Fprintf(&b, "include %s\n", filepath.Join(ldapSchemaDir(), name+".schema"))
	}
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", filepath.Join(base, "slapd.pid"), filepath.Join(base, "slapd.args"))
	b.WriteString("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
	b.WriteString("access to attrs=userPassword by anonymous auth by * none\naccess to * by users read by * none\n")
	fmt.Fprintf(&b, "database mdb\nmaxsize 67108864\nsuffix %q\nrootdn %q\nrootpw %s\ndirectory %s\n",
		LDAPBaseDN, s.RootDN, s.RootPassword, filepath.Join(base, "data"))
	return b.String()
}

// ldapBaseEntries is the LDIF of the suffix and the two organisational units.
func ldapBaseEntries() string {
	return "dn: " + LDAPBaseDN + "\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n\n" +
		"dn: ou=people," + LDAPBaseDN + "\nobjectClass: organizationalUnit\nou: people\n\n" +
		"dn: ou=groups," + LDAPBaseDN + "\nobjectClass: organizationalUnit\nou: groups\n"
}

// start runs slapd in the foreground (-d keeps it there) and waits until the
// root DN can bind.
func (s *LDAPServer) start(ctx context.Context, conf string) error {
	logf, err := os.Create(s.LogPath)
	if err != nil {
		return fmt.Errorf("create slapd log: %w", err)
	}
	s.cmd = exec.Command(slapdPath(), "-f", conf, "-h", s.URL+"/", "-d", "stats")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Killed with the test process, even if that is killed itself.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start slapd: %w", err)
	}
	go func() { s.waitErr = s.cmd.Wait(); _ = logf.Close(); close(s.done) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err := s.Bind(ctx, s.RootDN, s.RootPassword)
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("slapd exited before it was ready (%w): %s", errors.Join(s.waitErr, err), tailLines(s.LogPath, 20))
		case <-ctx.Done():
			_ = s.Stop()
			return fmt.Errorf("slapd not ready after 30s (last error: %w): %s", err, tailLines(s.LogPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Bind checks that dn can bind with password (ldapwhoami); nil means the
// credential works.
func (s *LDAPServer) Bind(ctx context.Context, dn, password string) error {
	_, err := s.run(ctx, "ldapwhoami", dn, password, "")
	return err
}

// Add adds the entries of an LDIF document as the root DN.
func (s *LDAPServer) Add(ctx context.Context, ldif string) error {
	_, err := s.run(ctx, "ldapadd", s.RootDN, s.RootPassword, ldif)
	return err
}

// run runs an ldap-utils tool bound as dn. The password goes through a file
// (-y), so that it never shows on a command line.
func (s *LDAPServer) run(ctx context.Context, tool, dn, password, stdin string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pw, err := os.CreateTemp(s.dir, "bind-pw")
	if err != nil {
		return nil, fmt.Errorf("%s: create the password file: %w", tool, err)
	}
	defer func() { _ = os.Remove(pw.Name()) }()
	_, werr := pw.WriteString(password)
	if err := errors.Join(werr, pw.Close()); err != nil {
		return nil, fmt.Errorf("%s: write the password file: %w", tool, err)
	}
	cmd := exec.CommandContext(ctx, tool, "-x", "-H", s.URL, "-D", dn, "-y", pw.Name())
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s as %s: %w: %s", tool, dn, err, bytes.TrimSpace(out))
	}
	return out, nil
}

// AddUser adds uid=user under ou=people with password, and a groupOfNames
// cn=group under ou=groups with the user as its member (when group is set).
func (s *LDAPServer) AddUser(ctx context.Context, user, password, group string) error {
	dn := s.UserDN(user)
	ldif := "dn: " + dn + "\nobjectClass: inetOrgPerson\nuid: " + user + "\ncn: " + user + "\nsn: " + user +
		"\nuserPassword: " + password + "\n"
	if group != "" {
		ldif += "\ndn: cn=" + group + ",ou=groups," + LDAPBaseDN + "\nobjectClass: groupOfNames\ncn: " + group + "\nmember: " + dn + "\n"
	}
	return s.Add(ctx, ldif)
}

// UserDN is the DN AddUser gives user.
func (s *LDAPServer) UserDN(user string) string { return "uid=" + user + ",ou=people," + LDAPBaseDN }

// Stop terminates slapd by PID: SIGTERM, then SIGKILL to its process group
// after 10s.
func (s *LDAPServer) Stop() error {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	return nil
}

// tailLines returns the last n lines of a log file, for a failure message.
func tailLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return path + ":\n" + strings.Join(lines, "\n")
}

// LDAPAuth enables the ldap auth method at mount (once) against s: users are
// found by uid under ou=people, the server binds as the root DN to search, and
// members of the groupOfNames group get the read policy.
func (e *Env) LDAPAuth(ctx context.Context, mount string, s *LDAPServer, group string) error {
	if err := e.readPolicy(ctx); err != nil {
		return err
	}
	if err := e.EnableOnce(ctx, "ldap", mount, nil); err != nil {
		return err
	}
	if _, err := e.Write(ctx, "auth/"+mount+"/config", map[string]any{
		"url": s.URL, "userdn": "ou=people," + LDAPBaseDN, "userattr": "uid",
		"groupdn": "ou=groups," + LDAPBaseDN, "groupattr": "cn",
		"groupfilter": "(&(objectClass=groupOfNames)(member={{.UserDN}}))",
		"binddn":      s.RootDN, "bindpass": s.RootPassword, "request_timeout": "10s",
	}); err != nil {
		return err
	}
	_, err := e.Write(ctx, "auth/"+mount+"/groups/"+group, map[string]any{"policies": "read"})
	return err
}
