package esocompat

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/controllers/internal/outcome"
)

// storeRef names one of ESO's stores; kind "" is a SecretStore.
type storeRef struct {
	kind, name string
}

// serves reports whether this operator serves the ESO object. As in ESO, a
// store's spec.controller decides, and an object that reads or pushes
// through stores follows them: a store is served when its class is the one
// given by --eso-controller-class and its provider is vault or openbao.
// Generators are mirrored whenever they exist; only served objects use them.
func (r *Reconciler) serves(ctx context.Context, eso *unstructured.Unstructured) (bool, error) {
	switch r.kind.gvk.Kind {
	case "SecretStore", "ClusterSecretStore":
		return r.servesStore(eso), nil
	case "ExternalSecret":
		return r.servesRef(ctx, eso.GetNamespace(), decidingRef(eso.Object, "spec"))
	case "ClusterExternalSecret":
		ref := decidingRef(eso.Object, "spec", "externalSecretSpec")
		if ref.kind != "ClusterSecretStore" {
			// A SecretStore of each selected namespace: no one store decides.
			return r.Class == "", nil
		}
		return r.servesRef(ctx, "", ref)
	case "PushSecret":
		return r.servesPush(ctx, eso)
	}
	return true, nil
}

// servesStore: the store's class is ours and its provider OpenBao or Vault.
func (r *Reconciler) servesStore(store *unstructured.Unstructured) bool {
	class, _, _ := unstructured.NestedString(store.Object, "spec", "controller")
	if class != r.Class {
		return false
	}
	provider, _, _ := unstructured.NestedMap(store.Object, "spec", "provider")
	if len(provider) != 1 {
		return false
	}
	_, vault := provider["vault"]
	_, bao := provider["openbao"]
	return vault || bao
}

// servesRef decides by the store ref names. An object without a store ref
// (generators only) or whose store does not exist is served by the operator
// whose ESO class is empty, as ESO's default controller would report it.
func (r *Reconciler) servesRef(ctx context.Context, namespace string, ref storeRef) (bool, error) {
	if ref.name == "" {
		return r.Class == "", nil
	}
	k := storeKind(ref.kind)
	if k.cluster {
		if !r.Scope.ClusterWide() {
			return false, nil
		}
		namespace = ""
	}
	store := k.newESO()
	err := r.Cache.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.name}, store)
	if apierrors.IsNotFound(err) {
		return r.Class == "", nil
	}
	if err != nil {
		return false, outcome.FromKube("read the ESO store", err)
	}
	return r.servesStore(store), nil
}

// servesPush: every store the PushSecret names is served. A PushSecret that
// selects its stores by labels only is the empty ESO class's; its mirror
// selects among the mirrored stores, which carry the ESO stores' labels.
func (r *Reconciler) servesPush(ctx context.Context, eso *unstructured.Unstructured) (bool, error) {
	refs, _, _ := unstructured.NestedSlice(eso.Object, "spec", "secretStoreRefs")
	named := 0
	for _, item := range refs {
		ref := refOf(item)
		if ref.name == "" {
			continue
		}
		named++
		ok, err := r.servesRef(ctx, eso.GetNamespace(), ref)
		if err != nil || !ok {
			return false, err
		}
	}
	return named > 0 || r.Class == "", nil
}

// decidingRef is the store that decides who serves an ExternalSecret spec:
// its secretStoreRef, else the first entry's sourceRef.storeRef, as in ESO.
func decidingRef(obj map[string]any, spec ...string) storeRef {
	s, _, _ := unstructured.NestedMap(obj, spec...)
	if ref := refOf(s["secretStoreRef"]); ref.name != "" {
		return ref
	}
	for _, list := range []string{"data", "dataFrom"} {
		entries, _ := s[list].([]any)
		for _, e := range entries {
			m, _ := e.(map[string]any)
			src, _ := m["sourceRef"].(map[string]any)
			if ref := refOf(src["storeRef"]); ref.name != "" {
				return ref
			}
		}
	}
	return storeRef{}
}

// refOf reads a store reference ({name, kind}) from decoded JSON.
func refOf(v any) storeRef {
	m, _ := v.(map[string]any)
	name, _ := m["name"].(string)
	kind, _ := m["kind"].(string)
	return storeRef{kind: kind, name: name}
}
