package generator

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/api/v1alpha1"
)

// WatchedKinds returns an empty object of each generator kind an operator
// watches, by the kind a generatorRef names: a namespace-scoped operator
// serves no ClusterGenerator.
func WatchedKinds(clusterWide bool) map[string]client.Object {
	kinds := map[string]client.Object{
		string(v1alpha1.GeneratorKindPassword):           &v1alpha1.Password{},
		string(v1alpha1.GeneratorKindUUID):               &v1alpha1.UUID{},
		string(v1alpha1.GeneratorKindVaultDynamicSecret): &v1alpha1.VaultDynamicSecret{},
	}
	if clusterWide {
		kinds[v1alpha1.GeneratorKindCluster] = &v1alpha1.ClusterGenerator{}
	}
	return kinds
}

// RefKey is the index key of a generator reference, "Kind/name".
func RefKey(ref v1alpha1.GeneratorRef) string { return ref.Kind + "/" + ref.Name }

// Users lists into list the objects that reference the generator o of kind,
// through the field index named index (keyed by RefKey): in o's namespace, or
// anywhere for a ClusterGenerator. It returns a request for each.
func Users(ctx context.Context, c client.Reader, list client.ObjectList, index, kind string, o client.Object) ([]reconcile.Request, error) {
	opts := []client.ListOption{client.MatchingFields{index: RefKey(v1alpha1.GeneratorRef{Kind: kind, Name: o.GetName()})}}
	if kind != v1alpha1.GeneratorKindCluster {
		opts = append(opts, client.InNamespace(o.GetNamespace()))
	}
	opts = append(opts, client.UnsafeDisableDeepCopy) // only names are read: no copy of every user
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("list the users of %s %q: %w", kind, o.GetName(), err)
	}
	var reqs []reconcile.Request
	err := meta.EachListItem(list, func(item runtime.Object) error {
		m, err := meta.Accessor(item)
		if err != nil {
			return err
		}
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: m.GetNamespace(), Name: m.GetName()}})
		return nil
	})
	return reqs, err
}
