// Package render is `baosync render`: it shows the Secret an ExternalSecret
// would produce, read from a file, without writing anything. Values are
// masked unless --show-values is given.
package render

import (
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
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/externalsecret"
	"github.com/baosync/baosync/providers"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the sync would fail; stderr says why, with its Reason
	exitUsage = 2
)

// Command runs `baosync render` with args. provider reads the secrets.
func Command(args []string, provider providers.Provider, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baosync render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "file with the ExternalSecret (and optionally its store)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig to read the store, its auth material and templates from (default: $KUBECONFIG or ~/.kube/config)")
	namespace := fs.String("n", "", "namespace of the ExternalSecret, when the file names none")
	vaultAddr := fs.String("vault-addr", "", "read from this OpenBao/Vault address with --vault-token instead of the store's auth")
	tokenFile := fs.String("vault-token-file", "", "file holding the token for --vault-addr (a token never goes on the command line)")
	show := fs.Bool("show-values", false, "print the values instead of masking them")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit")
	if err := fs.Parse(args); err != nil || *file == "" {
		fmt.Fprintln(stderr, "usage: baosync render -f externalsecret.yaml [--kubeconfig F | --vault-addr URL --vault-token-file F] [--show-values]")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	s, err := run(ctx, options{file: *file, kubeconfig: *kubeconfig, namespace: *namespace, vaultAddr: *vaultAddr, tokenFile: *tokenFile}, provider)
	if err != nil {
		fmt.Fprintf(stderr, "baosync render: %s\n", describe(err))
		return exitFail
	}
	if err := write(stdout, s, *show); err != nil {
		fmt.Fprintf(stderr, "baosync render: %v\n", err)
		return exitFail
	}
	return exitOK
}

type options struct {
	file, kubeconfig, namespace, vaultAddr, tokenFile string
}

// run loads the objects, resolves the store and previews the Secret.
func run(ctx context.Context, o options, provider providers.Provider) (*corev1.Secret, error) {
	es, fileStore, err := load(o.file)
	if err != nil {
		return nil, err
	}
	if es.Namespace == "" {
		es.Namespace = o.namespace
	}
	if es.Namespace == "" {
		es.Namespace = "default"
	}
	var c client.Client
	if o.vaultAddr == "" || needsCluster(es) || fileStore == nil {
		if c, err = clusterClient(o.kubeconfig); err != nil {
			return nil, err
		}
	}
	r := &externalsecret.Reconciler{Client: c, APIReader: c, Provider: provider}
	store, err := pickStore(ctx, r, c, es, fileStore)
	if err != nil {
		return nil, err
	}
	if o.vaultAddr != "" {
		if store, err = tokenStore(store, o.vaultAddr, o.tokenFile, es.Namespace); err != nil {
			return nil, err
		}
		var reader client.Reader
		if c != nil {
			reader = c
		}
		r.APIReader = withTokenSecret(reader, es.Namespace, o.tokenFile)
	}
	return r.Preview(ctx, es, store)
}

// describe prefixes an outcome error with its Reason.
func describe(err error) string {
	if reason := externalsecret.Reason(err); reason != "" {
		return reason + ": " + err.Error()
	}
	return err.Error()
}

// write prints the Secret as YAML, values masked unless show.
func write(w io.Writer, s *corev1.Secret, show bool) error {
	s.TypeMeta.APIVersion, s.TypeMeta.Kind = "v1", "Secret"
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

// load reads the ExternalSecret and an optional store from a YAML stream.
func load(path string) (*v1alpha1.ExternalSecret, v1alpha1.GenericStore, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var es *v1alpha1.ExternalSecret
	var store v1alpha1.GenericStore
	for _, doc := range strings.Split("\n"+string(b), "\n---") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		var obj any
		switch meta.Kind {
		case "ExternalSecret":
			es = &v1alpha1.ExternalSecret{}
			obj = es
		case "SecretStore":
			store = &v1alpha1.SecretStore{}
			obj = store
		case "ClusterSecretStore":
			store = &v1alpha1.ClusterSecretStore{}
			obj = store
		default:
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", path, meta.Kind, err)
		}
	}
	if es == nil {
		return nil, nil, fmt.Errorf("%s holds no ExternalSecret", path)
	}
	return es, store, nil
}

// needsCluster reports whether the preview must read templates from the cluster.
func needsCluster(es *v1alpha1.ExternalSecret) bool {
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

// pickStore takes the store from the file, or from the cluster.
func pickStore(ctx context.Context, r *externalsecret.Reconciler, c client.Client, es *v1alpha1.ExternalSecret, fromFile v1alpha1.GenericStore) (v1alpha1.GenericStore, error) {
	if fromFile != nil {
		fromFile.SetNamespace(es.Namespace)
		if fromFile.GetKind() == v1alpha1.SecretStoreKindCluster {
			fromFile.SetNamespace("")
		}
		return fromFile, nil
	}
	if c == nil {
		return nil, errors.New("the file holds no store: add it to the file or give --kubeconfig")
	}
	return r.PreviewStore(ctx, es)
}

// clusterClient builds a client from a kubeconfig.
func clusterClient(path string) (client.Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	return client.New(cfg, client.Options{Scheme: s})
}
