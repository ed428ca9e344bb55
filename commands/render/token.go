package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// renderTokenSecret is the name under which the caller's token is handed to
// the provider, as if it were a Secret of the ExternalSecret's namespace.
const renderTokenSecret = "baosync-render-token" //nolint:gosec // the name of a Secret, not a credential

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

// tokenStore rewrites the store to read from the caller's address with the
// caller's token, namespace and CA.
func (v *vaultEnv) tokenStore(store v1alpha1.GenericStore, namespace string) (v1alpha1.GenericStore, error) {
	if v.tokenErr != nil {
		return nil, v.tokenErr
	}
	s := store.DeepCopyObject().(v1alpha1.GenericStore)
	p := s.GetSpec().Provider.Vault
	if p == nil {
		return nil, errors.New("the store has no vault provider")
	}
	ns := namespace
	p.Server = v.addr
	p.Auth = v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: renderTokenSecret, Key: "token", Namespace: &ns}}
	if v.namespace != "" {
		vns := v.namespace
		p.Namespace = &vns
	}
	if v.caCert != "" {
		ca, err := os.ReadFile(v.caCert)
		if err != nil {
			return nil, fmt.Errorf("read VAULT_CACERT: %w", err)
		}
		p.CABundle, p.CAProvider = ca, nil
	}
	return s, nil
}

// tokenReader serves the caller's token as the Secret tokenStore names, and
// every other read from the cluster (when there is one).
type tokenReader struct {
	client.Reader
	namespace, token string
}

// withTokenSecret wraps c (which may be nil) in a tokenReader.
func withTokenSecret(c client.Reader, namespace, token string) client.Reader {
	return &tokenReader{Reader: c, namespace: namespace, token: token}
}

// Get returns the token Secret, or asks the cluster.
func (t *tokenReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if s, ok := obj.(*corev1.Secret); ok && key.Name == renderTokenSecret && key.Namespace == t.namespace {
		s.Data = map[string][]byte{"token": []byte(t.token)}
		return nil
	}
	if t.Reader == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "objects"}, key.Name)
	}
	return t.Reader.Get(ctx, key, obj, opts...)
}
