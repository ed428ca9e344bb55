// Package render is `baosync render`: it shows the Secrets the
// ExternalSecrets of a file would produce, without writing anything. Values
// are masked unless --show-values is given.
//
// Whose permissions it uses: with a Vault address (--vault-addr or
// VAULT_ADDR) it reads with the caller's own Vault token (--vault-token-file,
// VAULT_TOKEN or ~/.vault-token), like every Vault CLI, and sends that token
// only to that address, whatever server the stores name. Only when asked with
// --store-auth does it log in with a store's own auth method, reading the
// store (from the cluster, never the file) and its auth Secrets with the
// caller's kubeconfig, under the operator's tenant rules.
package render

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/commands/kubeconfig"
	"github.com/baosync/baosync/internal/desired"
	"github.com/baosync/baosync/internal/kubeaccess"
	"github.com/baosync/baosync/providers"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // a sync would fail; stderr says which and why, with its Reason
	exitUsage = 2
)

const usage = `usage: baosync render -f FILE [-n NAMESPACE] [--kubeconfig F] (--vault-addr URL [--vault-token-file F] | --store-auth) [--show-values]

Prints the Secret every ExternalSecret of FILE would produce, writing nothing.
With a Vault address (--vault-addr, or VAULT_ADDR) it reads every store's paths
from that address with your own token (--vault-token-file, VAULT_TOKEN, or
~/.vault-token), honouring VAULT_NAMESPACE and VAULT_CACERT, and sends your token
nowhere else. With --store-auth it logs in with the stores' own auth, reading the
stores and their credentials from the cluster with your kubeconfig.`

// Command runs `baosync render` with args and the process environment.
// provider reads the secrets.
func Command(args []string, provider providers.Provider, stdout, stderr io.Writer) int {
	return CommandEnv(args, os.Getenv, provider, stdout, stderr)
}

// CommandEnv is Command with the environment read through getenv.
func CommandEnv(args []string, getenv func(string) string, provider providers.Provider, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baosync render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage+"\n\nFlags:"); fs.PrintDefaults() }
	var o options
	fs.StringVar(&o.file, "f", "", "file with the ExternalSecrets (and optionally their stores)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig to read stores, their auth material and templates from (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&o.namespace, "n", "", "namespace of the ExternalSecrets that name none (default: default)")
	fs.StringVar(&o.vault.addr, "vault-addr", "", "read from this OpenBao/Vault address with your token instead of the store's auth (default: $VAULT_ADDR)")
	fs.StringVar(&o.vault.tokenFile, "vault-token-file", "", "file holding your token (default: $VAULT_TOKEN, then ~/.vault-token); a token never goes on the command line")
	fs.BoolVar(&o.storeAuth, "store-auth", false, "log in with each store's own auth, reading the stores and their credentials from the cluster with your kubeconfig (stores in the file are not used)")
	show := fs.Bool("show-values", false, "print the values instead of masking them")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for all ExternalSecrets")
	if err := fs.Parse(args); err != nil || o.file == "" {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
		}
		return exitUsage
	}
	o.vault.fromEnv(getenv)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	in, err := load(o.file)
	if err != nil {
		fmt.Fprintf(stderr, "baosync render: %v\n", err)
		return exitFail
	}
	code := exitOK
	for i, es := range in.externalSecrets {
		s, err := renderOne(ctx, &o, in, es, provider)
		if err == nil && i > 0 {
			_, err = io.WriteString(stdout, "---\n")
		}
		if err == nil {
			err = write(stdout, s, *show)
		}
		if err != nil {
			fmt.Fprintf(stderr, "baosync render: ExternalSecret %s/%s: %s\n", es.Namespace, es.Name, describe(err))
			code = exitFail
		}
	}
	return code
}

type options struct {
	file, kubeconfig, namespace string
	vault                       vaultEnv
	storeAuth                   bool
	// cluster is the client built from the kubeconfig, once, when needed.
	cluster client.Client
}

// clusterClient returns the kubeconfig's client, built on first use.
func (o *options) clusterClient() (client.Client, error) {
	if o.cluster == nil {
		c, _, err := kubeconfig.Client(o.kubeconfig)
		if err != nil {
			return nil, err
		}
		o.cluster = c
	}
	return o.cluster, nil
}

// renderOne previews the Secret of one ExternalSecret. With the caller's
// own access (--vault-addr), every store reads from that address with the
// caller's token; with --store-auth, stores come from the cluster and log in
// with their own auth, read with the caller's kubeconfig; with neither, only
// an ExternalSecret that reads no store (generators only) is rendered.
func renderOne(ctx context.Context, o *options, in *input, es *v1alpha1.ExternalSecret, provider providers.Provider) (*corev1.Secret, error) {
	if es.Namespace == "" {
		es.Namespace = cmp.Or(o.namespace, "default")
	}
	stores := desired.StoreKeys(es)
	if o.vault.set() {
		return asCaller(ctx, o, in, es, stores, provider)
	}
	if len(stores) > 0 && !o.storeAuth {
		return nil, fmt.Errorf("it reads %s: give --vault-addr to read with your own token, or --store-auth to log in "+
			"with the store's own credentials, read from the cluster with your kubeconfig", strings.Join(stores, ", "))
	}
	c, err := o.clusterClient()
	if err != nil {
		return nil, err
	}
	return preview(ctx, c, provider, es)
}

// asCaller previews with the caller's own access: stores from the file
// (before the cluster's) say only where the secrets are; callerProvider sends
// the caller's token to the caller's address and nowhere else.
func asCaller(ctx context.Context, o *options, in *input, es *v1alpha1.ExternalSecret, stores []string, provider providers.Provider) (*corev1.Secret, error) {
	var c client.Client
	if needsCluster(es) || !in.holds(stores) {
		var err error
		if c, err = o.clusterClient(); err != nil {
			return nil, err
		}
	}
	files := &fileStores{Client: c, in: in}
	return preview(ctx, files, &callerProvider{next: provider, vault: &o.vault}, es)
}

// preview builds es's Secret as a sync would, reading stores, generators and
// templates through c, with a builder that keeps nothing: generators show
// the values kept for es, or throwaway ones, and no dynamic secret is issued.
// Errors carry the Reasons of a sync.
func preview(ctx context.Context, c client.Client, provider providers.Provider, es *v1alpha1.ExternalSecret) (*corev1.Secret, error) {
	b := &desired.Builder{Cache: c, Live: c, Provider: provider, Clock: clock.RealClock{},
		Kube: &kubeaccess.Access{Reader: c, Writer: c, Namespaces: c}}
	store, err := b.Store(ctx, es)
	if err != nil {
		return nil, err
	}
	built, err := b.Build(ctx, es, store, 0)
	if err != nil {
		return nil, err
	}
	return built.Secret, nil
}

// describe prefixes an error with the Reason it carries.
func describe(err error) string {
	if reason := desired.Reason(err); reason != "" {
		return reason + ": " + err.Error()
	}
	return err.Error()
}

// write prints the Secret as YAML, values masked unless show.
func write(w io.Writer, s *corev1.Secret, show bool) error {
	s.APIVersion, s.Kind = "v1", "Secret"
	if !show {
		masked := map[string]string{}
		keys := make([]string, 0, len(s.Data))
		for k := range s.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			masked[k] = fmt.Sprintf("<%d bytes>", len(s.Data[k]))
		}
		s.Data, s.StringData = nil, masked
	} else {
		s.StringData = map[string]string{}
		for k, v := range s.Data {
			s.StringData[k] = string(v)
		}
		s.Data = nil
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// needsCluster reports whether the preview must read templates or generators
// from the cluster.
func needsCluster(es *v1alpha1.ExternalSecret) bool {
	for _, df := range es.Spec.DataFrom {
		if df.SourceRef != nil && df.SourceRef.GeneratorRef != nil {
			return true // generators and their kept values live in the cluster
		}
	}
	t := es.Spec.Target.Template
	if t == nil {
		return false
	}
	for _, f := range t.TemplateFrom {
		if f.ConfigMap != nil || f.Secret != nil {
			return true
		}
	}
	return false
}
