package render

import (
	"context"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// renderTokenSecret is the name under which the --vault-token-file token is
// handed to the provider, as if it were a Secret of the ExternalSecret's namespace.
const renderTokenSecret = "baosync-render-token"

// tokenStore rewrites the store to read from addr with token auth.
func tokenStore(store v1alpha1.GenericStore, addr, tokenFile, namespace string) (v1alpha1.GenericStore, error) {
	if tokenFile == "" {
		return nil, fmt.Errorf("--vault-addr needs --vault-token-file")
	}
	s := store.DeepCopyObject().(v1alpha1.GenericStore)
	v := s.GetSpec().Provider.Vault
	if v == nil {
		return nil, fmt.Errorf("the store has no vault provider")
	}
	ns := namespace
	v.Server = addr
	v.Auth = v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: renderTokenSecret, Key: "token", Namespace: &ns}}
	return s, nil
}

// tokenReader serves the token file as the Secret tokenStore names, and every
// other read from the cluster (when there is one).
type tokenReader struct {
	client.Reader
	namespace, tokenFile string
}

// withTokenSecret wraps c (which may be nil) in a tokenReader.
func withTokenSecret(c client.Reader, namespace, tokenFile string) client.Reader {
	return &tokenReader{Reader: c, namespace: namespace, tokenFile: tokenFile}
}

// Get returns the token Secret, or asks the cluster.
func (t *tokenReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if s, ok := obj.(*corev1.Secret); ok && key.Name == renderTokenSecret && key.Namespace == t.namespace {
		b, err := os.ReadFile(t.tokenFile)
		if err != nil {
			return fmt.Errorf("read --vault-token-file: %w", err)
		}
		s.Data = map[string][]byte{"token": []byte(strings.TrimSpace(string(b)))}
		return nil
	}
	if t.Reader == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "objects"}, key.Name)
	}
	return t.Reader.Get(ctx, key, obj, opts...)
}
