package convert

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommand_ReadsStdinAndReportsOnStderr(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader("apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: x}\nspec: {provider: {gcpsm: {}}}\n")
	if code := Command([]string{"-f", "-"}, in, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "warning: SecretStore x: provider gcpsm") {
		t.Fatalf("stderr: %q", errOut.String())
	}
	if code := Command([]string{"-f", "/nonexistent"}, nil, &out, &errOut); code != 1 {
		t.Fatalf("a missing file must exit 1, got %d", code)
	}
}

func TestCommand_ReadsDirectoriesRecursivelyAndFailsOnRefusedObjects(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "apps", "db")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "store.yaml"), "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: s}\nspec: {provider: {vault: {server: x, auth: {ldap: {username: u}}}}}\n")
	write(filepath.Join(sub, "es.yml"), "# db\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: db}\nspec: {secretStoreRef: {name: s}, data: [{secretKey: k, remoteRef: {key: a}}]}\n")
	write(filepath.Join(sub, "README.md"), "not a manifest")
	var out, errOut bytes.Buffer
	if code := Command([]string{"-f", dir}, nil, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1 (the store was refused): %s", code, errOut.String())
	}
	for _, want := range []string{
		"error: " + filepath.Join(dir, "store.yaml") + ":1: SecretStore s: field spec.provider.vault.auth.ldap.secretRef",
		"warning: " + filepath.Join(sub, "es.yml") + ":2: ExternalSecret db: field spec.secretStoreRef: refers to SecretStore s",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "# db\n---\napiVersion: baosync.io/v1alpha1\nkind: ExternalSecret") {
		t.Errorf("stdout: %s", out.String())
	}
}
