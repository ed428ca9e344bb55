package convert

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// dryRunTimeout bounds the server-side dry run of one object.
const dryRunTimeout = 30 * time.Second

// fieldManager is the field manager named in the dry run's apply requests.
const fieldManager = "baosync-convert"

// ServerDryRun returns a Check that applies each converted object to the
// cluster of c with a server-side dry run (`kubectl apply --server-side
// --dry-run=server`): the cluster's own CRD version, admission webhooks and
// policies judge it, and nothing is written. An object without a namespace
// goes to namespace, as kubectl would send it.
func ServerDryRun(ctx context.Context, c client.Client, namespace string) Check {
	return func(doc []byte) []string {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return []string{fmt.Sprintf("server-side dry run: cannot read the converted object (%v)", err)}
		}
		namespaced, err := c.IsObjectNamespaced(u)
		if err != nil {
			return []string{fmt.Sprintf("server-side dry run: the cluster does not serve %s %s; install baosync's CRDs (%v)",
				u.GetAPIVersion(), u.GetKind(), err)}
		}
		if namespaced && u.GetNamespace() == "" {
			u.SetNamespace(namespace)
		}
		ctx, cancel := context.WithTimeout(ctx, dryRunTimeout)
		defer cancel()
		err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
			client.DryRunAll, client.FieldOwner(fieldManager), client.ForceOwnership)
		if err != nil {
			return []string{fmt.Sprintf("the cluster refuses the converted object in a server-side dry run: %v", err)}
		}
		return nil
	}
}
