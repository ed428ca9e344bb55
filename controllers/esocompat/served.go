package esocompat

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// decision says whether this operator serves an ESO object.
type decision int

const (
	notServed decision = iota
	served
	// undecided: a store the object names does not exist, so its class is
	// unknown; serves settles it by the object's mark.
	undecided
)

func decide(ok bool) decision {
	if ok {
		return served
	}
	return notServed
}

// storeRef names one of ESO's stores; kind "" is a SecretStore.
type storeRef struct {
	kind, name string
}

// serves decides whether this operator serves the ESO object. As in ESO, a
// store's spec.controller decides, and an object that reads or pushes
// through stores is served only when every store it names is (ESO skips an
// object that names any store of another class): a store is served when its
// class is the one of --eso-controller-class and its provider is vault or
// openBao. Generators are mirrored whenever they exist; only served objects
// use them.
//
// A store that does not exist decides nothing (a GitOps tool recreating it, a
// deletion racing): the object stays with the operator whose mark it
// carries, and an unmarked one is the empty class's, which then reports
// StoreNotFound as ESO's default controller would.
func (r *Reconciler) serves(ctx context.Context, eso *unstructured.Unstructured) (decision, error) {
	d, err := r.byStores(ctx, eso)
	return r.settle(eso, d), err
}

// settle turns undecided into a decision by the object's mark.
func (r *Reconciler) settle(eso *unstructured.Unstructured, d decision) decision {
	if d != undecided {
		return d
	}
	if class, ok := eso.GetAnnotations()[v1alpha1.AnnotationServed]; ok {
		return decide(class == r.Class)
	}
	return decide(r.Class == "")
}

// byStores decides by the stores the object names: undecided when one of
// them does not exist and none of the others refuses.
func (r *Reconciler) byStores(ctx context.Context, eso *unstructured.Unstructured) (decision, error) {
	switch r.kind.gvk.Kind {
	case "SecretStore", "ClusterSecretStore":
		return decide(r.servesStore(eso)), nil
	case "ExternalSecret", "PushSecret":
		if esoParent(eso) != "" {
			// ESO's ClusterExternalSecret or ClusterPushSecret made it; the
			// parent's mirror makes baosync's own in its place.
			return notServed, nil
		}
		return r.servesRefs(ctx, eso.GetNamespace(), specRefs(eso))
	case "ClusterExternalSecret", "ClusterPushSecret":
		return r.byClusterStores(ctx, specRefs(eso))
	}
	return served, nil
}

// byClusterStores decides for a ClusterExternalSecret's spec: by its
// ClusterSecretStores; one that names a SecretStore (a different store in
// each selected namespace) is the empty class's.
func (r *Reconciler) byClusterStores(ctx context.Context, refs []storeRef) (decision, error) {
	for _, ref := range refs {
		if ref.kind != "ClusterSecretStore" {
			return decide(r.Class == ""), nil
		}
	}
	return r.servesRefs(ctx, "", refs)
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
	_, bao := provider["openBao"] // ESO v2.7's dedicated OpenBao provider
	return vault || bao
}

// servesRefs: every store named is served. An object that names none
// (generators only, a PushSecret selecting its stores by labels) is the
// empty ESO class's, as with ESO's default controller.
func (r *Reconciler) servesRefs(ctx context.Context, namespace string, refs []storeRef) (decision, error) {
	if len(refs) == 0 {
		return decide(r.Class == ""), nil
	}
	out := served
	for _, ref := range refs {
		d, err := r.servesRef(ctx, namespace, ref)
		if err != nil || d == notServed {
			return notServed, err
		}
		if d == undecided {
			out = undecided
		}
	}
	return out, nil
}

// servesRef decides by one store; undecided when it does not exist.
func (r *Reconciler) servesRef(ctx context.Context, namespace string, ref storeRef) (decision, error) {
	k := storeKind(ref.kind)
	if k.cluster {
		if !r.Scope.ClusterWide() {
			return notServed, nil
		}
		namespace = ""
	}
	store := k.newESO()
	err := r.Cache.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.name}, store)
	if apierrors.IsNotFound(err) {
		return undecided, nil
	}
	if err != nil {
		return notServed, outcome.FromKube("read the ESO store", err)
	}
	return decide(r.servesStore(store)), nil
}

// storeRefs are the stores an ExternalSecret spec names: its
// secretStoreRef and every entry's sourceRef.storeRef.
func storeRefs(obj map[string]any, spec ...string) []storeRef {
	s, _, _ := unstructured.NestedMap(obj, spec...)
	var refs []storeRef
	if ref := refOf(s["secretStoreRef"]); ref.name != "" {
		refs = append(refs, ref)
	}
	for _, list := range []string{"data", "dataFrom"} {
		entries, _ := s[list].([]any)
		for _, e := range entries {
			m, _ := e.(map[string]any)
			src, _ := m["sourceRef"].(map[string]any)
			if ref := refOf(src["storeRef"]); ref.name != "" {
				refs = append(refs, ref)
			}
		}
	}
	return refs
}

// pushStoreRefs are the stores a PushSecret names (not those it selects by
// labels).
func pushStoreRefs(obj map[string]any, spec ...string) []storeRef {
	items, _, _ := unstructured.NestedSlice(obj, append(spec, "secretStoreRefs")...)
	var refs []storeRef
	for _, item := range items {
		if ref := refOf(item); ref.name != "" {
			refs = append(refs, ref)
		}
	}
	return refs
}

// specRefs lists the store references of an ESO object of a kind that names
// stores: an ExternalSecret's or PushSecret's, or the spec its cluster kind
// gives every namespace.
func specRefs(o *unstructured.Unstructured) []storeRef {
	switch o.GetKind() {
	case "ExternalSecret":
		return storeRefs(o.Object, "spec")
	case "ClusterExternalSecret":
		return storeRefs(o.Object, "spec", "externalSecretSpec")
	case "ClusterPushSecret":
		return pushStoreRefs(o.Object, "spec", "pushSecretSpec")
	}
	return pushStoreRefs(o.Object, "spec")
}

// refOf reads a store reference ({name, kind}) from decoded JSON.
func refOf(v any) storeRef {
	m, _ := v.(map[string]any)
	name, _ := m["name"].(string)
	kind, _ := m["kind"].(string)
	return storeRef{kind: kind, name: name}
}

// controllerUID returns the UID of o's controller, "" for none.
func controllerUID(o metav1.Object) types.UID {
	if ref := metav1.GetControllerOf(o); ref != nil {
		return ref.UID
	}
	return ""
}

// ownedByESO reports whether o's controller is one of ESO's objects of kind.
func ownedByESO(o metav1.Object, kind string) bool {
	ref := metav1.GetControllerOf(o)
	if ref == nil || ref.Kind != kind {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == Group
}
