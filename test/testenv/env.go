package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/openbao/openbao/api/v2"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/baosync/baosync/api/v1alpha1"
)

// clientObject is a Kubernetes object the client can create.
type clientObject = client.Object

// Env is a running control plane and Vault server.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is an uncached client with baosync's types registered.
	Client client.Client
	// Scheme holds the core types and baosync's.
	Scheme *runtime.Scheme
	// Kubeconfig is a file for bin/kubectl --kubeconfig.
	Kubeconfig string
	// Vault is the dev server; VaultClient holds its root token.
	Vault       *VaultServer
	VaultClient *api.Client
	// Dir holds the servers' logs and the kubeconfig.
	Dir string

	control *envtest.Environment
	// dynamic holds PostgreSQL and the dynamic engines, set up on first use.
	dynamic dynamicEngines
	// afterTests are the checks Main runs after every test (AfterTests).
	esoVersion string // the ESO release whose CRDs are installed
	afterTests []func(ctx context.Context) error
}

// Options changes what Start starts.
type Options struct {
	// Dir holds logs and the kubeconfig; empty creates a temporary directory.
	Dir string
	// NoVault skips the Vault server.
	NoVault bool
}

// NewScheme returns a scheme with the core types and baosync's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	return s
}

// Start starts the API server (with baosync's CRDs installed) and Vault.
func Start(ctx context.Context, o Options) (*Env, error) {
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "baosync-testenv-"); err != nil {
			return nil, fmt.Errorf("create temp dir: %w", err)
		}
	}
	e := &Env{Dir: dir, Scheme: NewScheme()}
	if err := e.startControlPlane(); err != nil {
		e.Stop()
		return nil, err
	}
	if o.NoVault {
		return e, nil
	}
	v, err := StartVault(ctx, VaultOptions{Dir: dir})
	if err != nil {
		e.Stop()
		return nil, err
	}
	e.Vault = v
	if e.VaultClient, err = v.Client(); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

func (e *Env) startControlPlane() error {
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(BinDir(), b)); err != nil {
			return fmt.Errorf("%s missing in %s: run `make tools` (hack/tools/build.sh controlplane): %w", b, BinDir(), err)
		}
	}
	apiLog, err := os.Create(filepath.Join(e.Dir, "kube-apiserver.log"))
	if err != nil {
		return fmt.Errorf("create api server log: %w", err)
	}
	etcdLog, err := os.Create(filepath.Join(e.Dir, "etcd.log"))
	if err != nil {
		return fmt.Errorf("create etcd log: %w", err)
	}
	e.control = &envtest.Environment{
		BinaryAssetsDirectory:    BinDir(),
		CRDDirectoryPaths:        []string{filepath.Join(Root(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
		Scheme:                   e.Scheme,
	}
	api := e.control.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiLog, apiLog
	// A fixed certificate directory keeps the serving certificate (and the port)
	// across RestartAPIServer, so that running clients reconnect.
	api.CertDir = filepath.Join(e.Dir, "apiserver")
	if err := os.MkdirAll(api.CertDir, 0o700); err != nil {
		return fmt.Errorf("create api server cert dir: %w", err)
	}
	etcd := e.control.ControlPlane.Etcd
	if etcd == nil {
		etcd = &envtest.Etcd{}
		e.control.ControlPlane.Etcd = etcd
	}
	etcd.Out, etcd.Err = etcdLog, etcdLog
	if e.Config, err = e.control.Start(); err != nil {
		return fmt.Errorf("start envtest control plane (logs in %s): %w", e.Dir, err)
	}
	if e.Client, err = client.New(e.Config, client.Options{Scheme: e.Scheme}); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	return e.writeKubeconfig()
}

// writeKubeconfig writes an administrator kubeconfig for bin/kubectl.
func (e *Env) writeKubeconfig() error {
	user, err := e.control.AddUser(envtest.User{Name: "baosync-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add kubeconfig user: %w", err)
	}
	b, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("render kubeconfig: %w", err)
	}
	e.Kubeconfig = filepath.Join(e.Dir, "kubeconfig")
	if err := os.WriteFile(e.Kubeconfig, b, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// Stop stops Vault and the control plane by PID; it is safe to call twice.
func (e *Env) Stop() {
	if e == nil {
		return
	}
	_ = e.Vault.Stop()
	e.Vault = nil
	e.stopDynamic()
	if e.control != nil {
		_ = e.control.Stop()
		e.control = nil
	}
}

// RestartAPIServer kills kube-apiserver (SIGKILL, as a crash would: a
// graceful stop waits for every watch) and starts it again on the same port
// with the same certificates; etcd and its data stay.
func (e *Env) RestartAPIServer(down time.Duration) error {
	api := e.control.ControlPlane.GetAPIServer()
	port := api.SecureServing.Port
	for _, pid := range FindProcesses("kube-apiserver") {
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
			strings.Contains(string(cmdline), "--secure-port="+port+"\x00") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if err := api.Stop(); err != nil {
		return fmt.Errorf("stop api server: %w", err)
	}
	time.Sleep(down)
	if err := api.Start(); err != nil {
		return fmt.Errorf("start api server again: %w", err)
	}
	return nil
}

// LogFiles lists the servers' log files, for printing after a failure.
func (e *Env) LogFiles() []string {
	files, _ := filepath.Glob(filepath.Join(e.Dir, "*.log"))
	return files
}
