package ledger

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Names of the stores dynamicClient builds for generators: the provider
// names its clients "Kind/namespace/name" after them.
const (
	namespacedGeneratorStore = "VaultDynamicSecret/"
	clusterGeneratorStore    = "ClusterGenerator/"
)

// GeneratorOf is the generator behind a client name dynamicClient made
// ("SecretStore/ns/VaultDynamicSecret/name", "ClusterSecretStore//ClusterGenerator/name"),
// or nil for a real store's.
func GeneratorOf(store string) client.Object {
	parts := strings.SplitN(store, "/", 3)
	if len(parts) != 3 {
		return nil
	}
	ns, rest := parts[1], parts[2]
	switch {
	case ns != "" && strings.HasPrefix(rest, namespacedGeneratorStore):
		name := strings.TrimPrefix(rest, namespacedGeneratorStore)
		return &v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	case ns == "" && strings.HasPrefix(rest, clusterGeneratorStore):
		name := strings.TrimPrefix(rest, clusterGeneratorStore)
		return &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	return nil
}
