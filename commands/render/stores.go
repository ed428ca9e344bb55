package render

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// fileStores serves the file's stores when render reads with the caller's
// own access, and passes every other read to the cluster (nil: none, and
// every other object is not found). Only Get is used by a preview.
type fileStores struct {
	client.Client
	in *input
}

// Get returns a store of the file, or asks the cluster.
func (f *fileStores) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if store, ok := obj.(v1alpha1.GenericStore); ok {
		if s := f.in.stores[string(store.GetKind())+"/"+key.Name]; s != nil {
			copyStore(s, store)
			store.SetNamespace(key.Namespace)
			return nil
		}
	}
	if f.Client == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "objects"}, key.Name)
	}
	return f.Client.Get(ctx, key, obj, opts...)
}

// copyStore copies the file's store into dst, of the same kind.
func copyStore(src, dst v1alpha1.GenericStore) {
	switch d := dst.(type) {
	case *v1alpha1.SecretStore:
		src.(*v1alpha1.SecretStore).DeepCopyInto(d)
	case *v1alpha1.ClusterSecretStore:
		src.(*v1alpha1.ClusterSecretStore).DeepCopyInto(d)
	}
}

// holds reports whether the file holds every store of keys ("Kind/name").
func (in *input) holds(keys []string) bool {
	for _, k := range keys {
		if in.stores[k] == nil {
			return false
		}
	}
	return true
}
