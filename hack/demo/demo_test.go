package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/baosync/baosync/test/testenv"
)

// TestDemo_RunsUnattendedEndToEnd runs `make demo`'s program the way CI does,
// with the operator built from this tree, and checks the story it tells.
func TestDemo_RunsUnattendedEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo starts the control plane and Vault: `go test` without -short")
	}
	bin := filepath.Join(t.TempDir(), "baosync")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = testenv.Root()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build operator: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	d := &demo{out: &out, operatorBin: bin}
	if err := d.run(ctx); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"externalsecret.baosync.io/db-credentials   vault   1h                 SecretSynced   True",
		"Message:                Secret \"db-credentials\" is in sync with SecretStore \"vault\"",
		"db-credentials: keys password username",
		"api-config: keys endpoint limits token",
		"updated with new values from SecretStore \"vault\"",
		"vault kv patch secret/demo/db password=<new value>",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q\n%s", want, out.String())
		}
	}
	for _, value := range []string{"initial-password", "rotated-password", "demo-api-token"} {
		if strings.Contains(out.String(), value) {
			t.Errorf("demo output shows the secret value %q", value)
		}
	}
}
