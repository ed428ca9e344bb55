// Package kubeconfig builds the client of the baosync subcommands that talk
// to a cluster with the caller's own credentials (render, convert's dry run),
// the way kubectl finds them: an explicit path, else $KUBECONFIG, else
// ~/.kube/config.
package kubeconfig

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// requestTimeout bounds every request of a subcommand to the cluster.
const requestTimeout = 30 * time.Second

// Client returns a client for the kubeconfig at path (or the default one when
// path is empty), with baosync's kinds, and the namespace of its current
// context ("default" when it names none).
func Client(path string) (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.Timeout = requestTimeout // an unreachable cluster must not stall a command
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, "", fmt.Errorf("build scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, "", fmt.Errorf("build scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, "", fmt.Errorf("connect: %w", err)
	}
	return c, ns, nil
}
