package gettingstarted

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// The namespace and the values docs/getting-started.md writes.
const (
	pageNamespace     = "demo"
	pageUsername      = "app"
	pageRotatedSecret = "rotated-password"
)

// TestGettingStarted_CommandsWorkAsWritten runs the page's sh blocks with
// bin/vault and bin/kubectl against the test servers, the operator running as
// a process in place of the install step (see TestMain), and checks the outcome the page
// promises: every ExternalSecret Ready, the Secrets present, and the rotated
// password synced with the other key kept.
func TestGettingStarted_CommandsWorkAsWritten(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(testenv.Root(), "docs", "getting-started.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Blocks(page)
	if err != nil {
		t.Fatalf("docs/getting-started.md: %v", err)
	}
	run := 0
	for _, b := range blocks {
		if !b.Skipped {
			run++
		}
	}
	if run < 5 {
		t.Fatalf("docs/getting-started.md has %d runnable sh blocks; the page's real-cluster steps should be runnable", run)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := runScript(ctx, t, Script(blocks))
	if err != nil {
		t.Fatalf("the page's commands failed: %v\n%s\noperator log: %s", err, out, operatorLog)
	}
	// The login by hand prints the policies the page says it prints.
	if !strings.Contains(out, "[default demo-read]") {
		t.Errorf("the role check did not print [default demo-read]:\n%s", out)
	}
	assertSynced(ctx, t)
}

// runScript runs script with bash in a scratch directory that holds the
// clone's config/ (the page runs from the root of the clone), with bin/ first
// on PATH and the test servers' addresses and credentials in the environment.
func runScript(ctx context.Context, t *testing.T, script string) (string, error) {
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(testenv.Root(), "config"), filepath.Join(dir, "config")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + testenv.BinDir() + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir,
		"KUBECONFIG=" + env.Kubeconfig,
		"VAULT_ADDR=" + env.Vault.Addr,
		"VAULT_TOKEN=" + env.Vault.Token,
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// assertSynced waits until the page's ExternalSecrets are Ready and the
// rotated password has reached the Secret with username kept.
func assertSynced(ctx context.Context, t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		problem := syncProblem(ctx)
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (operator log: %s)", problem, operatorLog)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// syncProblem describes what is not yet as the page promises, or "".
func syncProblem(ctx context.Context) string {
	list := &v1alpha1.ExternalSecretList{}
	if err := env.Client.List(ctx, list, client.InNamespace(pageNamespace)); err != nil {
		return err.Error()
	}
	if len(list.Items) != 2 {
		return "want the samples' 2 ExternalSecrets in namespace demo"
	}
	for _, es := range list.Items {
		if !meta.IsStatusConditionTrue(es.Status.Conditions, v1alpha1.ConditionReady) {
			return "ExternalSecret " + es.Name + " is not Ready"
		}
	}
	for _, name := range []string{"db-credentials", "api-config"} {
		s := &corev1.Secret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: pageNamespace, Name: name}, s); err != nil {
			return "Secret " + name + ": " + err.Error()
		}
		if name != "db-credentials" {
			continue
		}
		if string(s.Data["username"]) != pageUsername {
			return "db-credentials lost or changed username: the rotation must keep the other keys (vault kv patch)"
		}
		if string(s.Data["password"]) != pageRotatedSecret {
			return "db-credentials does not hold the rotated password yet"
		}
	}
	return ""
}
