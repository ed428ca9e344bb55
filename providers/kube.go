package providers

import (
	"context"
	"time"
)

// Kube is the narrow view of the cluster that a provider gets: it reads the
// Secrets and ConfigMaps a store references and requests ServiceAccount tokens.
// Nothing else of the cluster is reachable through it.
type Kube interface {
	// SecretValue returns one key of a Secret.
	SecretValue(ctx context.Context, namespace, name, key string) ([]byte, error)
	// ConfigMapValue returns one key of a ConfigMap.
	ConfigMapValue(ctx context.Context, namespace, name, key string) ([]byte, error)
	// ServiceAccountToken requests a short-lived token for a ServiceAccount.
	ServiceAccountToken(ctx context.Context, namespace, name string, audiences []string, expiration time.Duration) (string, error)
	// AcceptedByAPIServer reports whether the Kubernetes API server itself
	// authenticates token (a TokenReview with the API server's own audiences).
	// A token it accepts is a cluster credential and must never be sent to a
	// store's server.
	AcceptedByAPIServer(ctx context.Context, token string) (bool, error)
	// NamespaceLabels returns the labels of a namespace, for a shared store's
	// tenancy templates; cluster admins, not tenants, write them.
	NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error)
}
