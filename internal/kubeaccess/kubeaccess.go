// Package kubeaccess implements providers.Kube on controller-runtime clients:
// the one way a provider reads auth material and requests ServiceAccount tokens.
package kubeaccess

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/providers"
)

// Access reads Secrets and ConfigMaps straight from the API server (the
// operator caches only the Secrets it manages) and creates tokens.
type Access struct {
	// Reader is an uncached reader (the manager's APIReader).
	Reader client.Reader
	// Namespaces reads namespaces, from the manager's cache (the operator
	// watches namespaces for stores' conditions); nil reads through Reader.
	Namespaces client.Reader
	// Writer creates TokenRequests through the serviceaccounts/token
	// subresource, and TokenReviews.
	Writer interface {
		client.SubResourceClientConstructor
		Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
	}
}

var _ providers.Kube = (*Access)(nil)

// SecretValue returns one key of a Secret.
func (a *Access) SecretValue(ctx context.Context, namespace, name, key string) ([]byte, error) {
	s := &corev1.Secret{}
	if err := a.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, s); err != nil {
		return nil, fmt.Errorf("get Secret %s/%s: %w", namespace, name, err)
	}
	v, ok := s.Data[key]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s has no key %q", namespace, name, key)
	}
	return v, nil
}

// ConfigMapValue returns one key of a ConfigMap (data or binaryData).
func (a *Access) ConfigMapValue(ctx context.Context, namespace, name, key string) ([]byte, error) {
	cm := &corev1.ConfigMap{}
	if err := a.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cm); err != nil {
		return nil, fmt.Errorf("get ConfigMap %s/%s: %w", namespace, name, err)
	}
	if v, ok := cm.Data[key]; ok {
		return []byte(v), nil
	}
	if v, ok := cm.BinaryData[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("configMap %s/%s has no key %q", namespace, name, key)
}

// NamespaceLabels returns the labels of a namespace.
func (a *Access) NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error) {
	r := a.Namespaces
	if r == nil {
		r = a.Reader
	}
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return nil, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return ns.Labels, nil
}

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create

// AcceptedByAPIServer reviews token against the API server's own audiences
// (a TokenReview that names none).
func (a *Access) AcceptedByAPIServer(ctx context.Context, token string) (bool, error) {
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := a.Writer.Create(ctx, tr); err != nil {
		return false, fmt.Errorf("review a token with the API server: %w", err)
	}
	return tr.Status.Authenticated, nil
}

// ServiceAccountToken requests a bound token for a ServiceAccount.
func (a *Access) ServiceAccountToken(ctx context.Context, namespace, name string, audiences []string, expiration time.Duration) (string, error) {
	secs := int64(expiration / time.Second)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &secs}}
	sa := &corev1.ServiceAccount{}
	sa.Namespace, sa.Name = namespace, name
	if err := a.Writer.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("create token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}
