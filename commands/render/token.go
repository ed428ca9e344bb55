package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// vaultEnv is the caller's own Vault access, from flags or the environment
// every Vault and OpenBao CLI reads.
type vaultEnv struct {
	addr, tokenFile string
	token           string // read from tokenFile, VAULT_TOKEN or ~/.vault-token
	namespace       string // VAULT_NAMESPACE
	caCert          string // VAULT_CACERT: a PEM file
	tokenErr        error
}

// fromEnv fills what the flags left empty: VAULT_* first, then OpenBao's
// BAO_* names.
func (v *vaultEnv) fromEnv(getenv func(string) string) {
	env := func(names ...string) string {
		for _, n := range names {
			if s := getenv(n); s != "" {
				return s
			}
		}
		return ""
	}
	if v.addr == "" {
		v.addr = env("VAULT_ADDR", "BAO_ADDR")
	}
	if v.addr == "" {
		return
	}
	v.namespace = env("VAULT_NAMESPACE", "BAO_NAMESPACE")
	v.caCert = env("VAULT_CACERT", "BAO_CACERT")
	switch {
	case v.tokenFile != "":
		v.token, v.tokenErr = readToken(v.tokenFile, "--vault-token-file")
	case env("VAULT_TOKEN", "BAO_TOKEN") != "":
		v.token = env("VAULT_TOKEN", "BAO_TOKEN")
	case env("HOME") != "":
		v.token, v.tokenErr = readToken(filepath.Join(env("HOME"), ".vault-token"), "~/.vault-token")
	default:
		v.tokenErr = errors.New("a Vault address needs a token: --vault-token-file, VAULT_TOKEN or ~/.vault-token")
	}
}

func readToken(path, what string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// set reports whether the caller's own Vault access is to be used.
func (v *vaultEnv) set() bool { return v.addr != "" }
