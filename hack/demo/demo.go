package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/test/testenv"
)

const ns = "demo"

// demo holds one run's state.
type demo struct {
	out         io.Writer
	operatorBin string
	interactive bool

	env      *testenv.Env
	operator *testenv.OperatorProcess
}

// run performs every step, and tears down whatever it started.
func (d *demo) run(ctx context.Context) error {
	defer d.teardown()
	steps := []struct {
		title string
		fn    func(context.Context) error
	}{
		{"Start a local kube-apiserver, etcd and a Vault dev server", d.startServers},
		{"Write demo secrets into Vault and set up Kubernetes auth", d.seedVault},
		{"Start the baosync operator", d.startOperator},
		{"Apply config/samples (a SecretStore and two ExternalSecrets)", d.applySamples},
		{"Wait until every ExternalSecret is Ready", d.waitReady},
		{"Show the sync state", d.show},
		{"Rotate the password in Vault and force a sync", d.rotate},
	}
	for i, s := range steps {
		fmt.Fprintf(d.out, "\n==> [%d/%d] %s\n", i+1, len(steps), s.title)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	fmt.Fprintf(d.out, "\n==> Done: the Secrets follow Vault.\n")
	if d.interactive {
		fmt.Fprintf(d.out, "\nThe cluster stays up until you press Ctrl-C. Try:\n  %s get externalsecrets -n %s\n  %s describe externalsecret db-credentials -n %s\n",
			d.kubectlCmd(), ns, d.kubectlCmd(), ns)
		<-ctx.Done()
	}
	return nil
}

func (d *demo) startServers(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "baosync-demo-")
	if err != nil {
		return err
	}
	if d.env, err = testenv.Start(ctx, testenv.Options{Dir: dir}); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    API server %s, Vault %s, logs in %s\n    kubectl: %s get ns\n", d.env.Config.Host, d.env.Vault.Addr, dir, d.kubectlCmd())
	return nil
}

func (d *demo) seedVault(ctx context.Context) error {
	if err := d.env.KVPut(ctx, "secret/demo/db", map[string]any{"username": "app", "password": "initial-password"}); err != nil {
		return err
	}
	if err := d.env.KVPut(ctx, "secret/demo/api", map[string]any{"token": "demo-api-token", "endpoint": "https://api.example.com",
		"limits": map[string]any{"rps": 50}}); err != nil {
		return err
	}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "baosync-demo", Namespace: ns}},
	} {
		if err := d.env.Client.Create(ctx, o); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.out, "    wrote secret/demo/db and secret/demo/api; Kubernetes auth role \"demo\" trusts ServiceAccount %s/baosync-demo (audience vault)\n", ns)
	return d.env.KubernetesRole(ctx, "demo", ns, "baosync-demo")
}

func (d *demo) startOperator(ctx context.Context) error {
	if _, err := os.Stat(d.operatorBin); err != nil {
		return fmt.Errorf("operator binary missing (run `make build`): %w", err)
	}
	var err error
	if d.operator, err = d.env.StartOperator(ctx, d.operatorBin, "operator"); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    %s (pid %d) runs as ServiceAccount %s/%s with the generated ClusterRole; log: %s\n",
		filepath.Base(d.operatorBin), d.operator.Pid(), testenv.OperatorNamespace, testenv.OperatorServiceAccount, d.operator.LogPath)
	return nil
}

func (d *demo) applySamples(ctx context.Context) error {
	out, err := d.kubectl(ctx, nil, "kustomize", filepath.Join(testenv.Root(), "config", "samples"))
	if err != nil {
		return err
	}
	manifests := strings.ReplaceAll(out, "http://127.0.0.1:8200", d.env.Vault.Addr)
	return d.show1(ctx, []byte(manifests), "apply", "-n", ns, "-f", "-")
}

func (d *demo) waitReady(ctx context.Context) error {
	return d.show1(ctx, nil, "wait", "-n", ns, "--for=condition=Ready", "externalsecrets", "--all", "--timeout=90s")
}

func (d *demo) show(ctx context.Context) error {
	for _, args := range [][]string{
		{"get", "secretstores,externalsecrets", "-n", ns},
		{"describe", "externalsecret", "db-credentials", "-n", ns},
		{"get", "secrets", "-n", ns, "-l", "baosync.io/managed=true", "-o",
			`go-template={{range .items}}{{.metadata.name}}: keys{{range $k, $v := .data}} {{$k}}{{end}}{{"\n"}}{{end}}`},
	} {
		fmt.Fprintf(d.out, "\n$ kubectl %s\n", strings.Join(args, " "))
		if err := d.show1(ctx, nil, args...); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) rotate(ctx context.Context) error {
	before, err := d.passwordDigest(ctx)
	if err != nil {
		return err
	}
	// A patch, as `vault kv patch` does: `kv put` would replace the whole
	// secret and drop the username the ExternalSecret also maps.
	if _, err := d.env.VaultClient.KVv2("secret").Patch(ctx, "demo/db", map[string]any{"password": "rotated-password"}); err != nil {
		return fmt.Errorf("patch secret/demo/db: %w", err)
	}
	args := []string{"annotate", "externalsecret", "db-credentials", "-n", ns, "--overwrite", fmt.Sprintf("baosync.io/force-sync=%d", time.Now().Unix())}
	fmt.Fprintf(d.out, "    vault kv patch secret/demo/db password=<new value>\n$ kubectl %s\n", strings.Join(args, " "))
	if err := d.show1(ctx, nil, args...); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		after, err := d.passwordDigest(ctx)
		if err != nil {
			return err
		}
		if after != before {
			fmt.Fprintf(d.out, "    Secret db-credentials: password digest %s -> %s (values are not printed)\n", before, after)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Secret did not change within 60s after the forced sync")
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(d.out, "\n$ kubectl get events -n %s --field-selector involvedObject.name=db-credentials\n", ns)
	return d.show1(ctx, nil, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=db-credentials")
}

// passwordDigest returns a short digest of the synced password, never the value.
func (d *demo) passwordDigest(ctx context.Context) (string, error) {
	s := &corev1.Secret{}
	if err := d.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db-credentials"}, s); err != nil {
		return "", err
	}
	sum := sha256.Sum256(s.Data["password"])
	return fmt.Sprintf("%x", sum[:4]), nil
}

func (d *demo) teardown() {
	d.operator.Stop()
	if d.env != nil {
		fmt.Fprintf(d.out, "\n==> Stopping the servers (logs kept in %s)\n", d.env.Dir)
		d.env.Stop()
	}
}

func (d *demo) kubectlCmd() string {
	return fmt.Sprintf("%s --kubeconfig %s", filepath.Join(testenv.BinDir(), "kubectl"), d.env.Kubeconfig)
}

// kubectl runs bin/kubectl and returns its output.
func (d *demo) kubectl(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(testenv.BinDir(), "kubectl"), append([]string{"--kubeconfig", d.env.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// show1 runs kubectl and prints its output, indented.
func (d *demo) show1(ctx context.Context, stdin []byte, args ...string) error {
	out, err := d.kubectl(ctx, stdin, args...)
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		fmt.Fprintf(d.out, "    %s\n", line)
	}
	return err
}
