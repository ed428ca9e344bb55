package esocompat

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/commands/convert"
	"github.com/baosync/baosync/controllers/externalsecret"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// FieldOwner is the field manager of the mirrors' server-side applies.
const FieldOwner = "baosync-eso-compat"

// mirror converts the ESO object and applies the result as its mirror: the
// baosync object of the same name that baosync's own reconcilers serve.
func (r *Reconciler) mirror(ctx context.Context, eso *unstructured.Unstructured) (client.Object, error) {
	desired, err := r.desiredMirror(eso)
	if err != nil {
		return nil, err
	}
	existing := r.kind.newMirror()
	err = r.Get(ctx, client.ObjectKeyFromObject(eso), existing)
	switch {
	case err == nil && !controlledBy(existing, eso):
		return nil, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, conflictRetry,
			"a baosync.io %s named %q already exists and is not this object's mirror; rename one of them", r.kind.gvk.Kind, eso.GetName())
	case err != nil && !apierrors.IsNotFound(err):
		return nil, outcome.FromKube("read the mirror", err)
	}
	err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(FieldOwner), client.ForceOwnership)
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "baosync's admission refuses this object: %s", convert.Refusal(err))
	}
	if err != nil {
		return nil, outcome.FromKube("apply the mirror", err)
	}
	if apierrors.IsNotFound(r.Get(ctx, client.ObjectKeyFromObject(eso), existing)) {
		return nil, nil // applied just now: the cache has not seen it yet, its status comes with the watch
	}
	return existing, nil
}

// desiredMirror converts the ESO object with `baosync convert`'s mapping. The
// mirror keeps the object's name, labels and annotations (an ExternalSecret's
// reach its Secret, as in ESO) and is controlled by it, so that it goes when
// the ESO object goes.
func (r *Reconciler) desiredMirror(eso *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	meta := map[string]any{"name": eso.GetName()}
	if ns := eso.GetNamespace(); ns != "" {
		meta["namespace"] = ns
	}
	if l := eso.GetLabels(); len(l) > 0 {
		meta["labels"] = l
	}
	if a := eso.GetAnnotations(); len(a) > 0 {
		meta["annotations"] = a
	}
	doc, err := yaml.Marshal(map[string]any{"apiVersion": eso.GetAPIVersion(), "kind": eso.GetKind(), "metadata": meta, "spec": eso.Object["spec"]})
	if err != nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "cannot read the object: %v", err)
	}
	out, warnings, _ := convert.Object(doc)
	if out == nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "baosync cannot serve this object as it is: %s", messages(warnings))
	}
	j, err := yaml.YAMLToJSON(out)
	if err != nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "cannot read the converted object: %v", err)
	}
	m := &unstructured.Unstructured{}
	if err := m.UnmarshalJSON(j); err != nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "cannot read the converted object: %v", err)
	}
	m.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: eso.GetAPIVersion(), Kind: eso.GetKind(),
		Name: eso.GetName(), UID: eso.GetUID(), Controller: ptr.To(true)}})
	r.adjust(m)
	return m, nil
}

// adjust fits the converted object to this operator: a store's ESO class was
// matched already, so its mirror carries the class baosync serves; an
// ExternalSecret takes over the Secret that ESO wrote for it, in place.
func (r *Reconciler) adjust(m *unstructured.Unstructured) {
	switch m.GetKind() {
	case "SecretStore", "ClusterSecretStore":
		if r.Scope.Class == "" {
			unstructured.RemoveNestedField(m.Object, "spec", "controller")
		} else {
			_ = unstructured.SetNestedField(m.Object, r.Scope.Class, "spec", "controller")
		}
	case "ExternalSecret":
		a := m.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[externalsecret.AnnotationTakeOver] = "true"
		m.SetAnnotations(a)
	}
}

// messages joins the warnings of a conversion that failed, the failures first.
func messages(warnings []convert.Warning) string {
	var failed, other []string
	for _, w := range warnings {
		if w.Failed {
			failed = append(failed, w.Message)
		} else {
			other = append(other, w.Message)
		}
	}
	return strings.Join(append(failed, other...), "; ")
}

// controlledBy reports whether o's controller is the ESO object.
func controlledBy(o client.Object, eso *unstructured.Unstructured) bool {
	ref := metav1.GetControllerOf(o)
	return ref != nil && ref.UID == eso.GetUID()
}

// dropMirror deletes the mirror of the ESO object key names, if it is one:
// with the ESO object (propagation Background: what the mirror owns goes too,
// as ESO deletes what it owns), or when this operator stops serving it
// (Orphan: the Secret stays for whoever serves the object next).
func (r *Reconciler) dropMirror(ctx context.Context, key types.NamespacedName, propagation metav1.DeletionPropagation) error {
	m := r.kind.newMirror()
	if err := r.Get(ctx, key, m); err != nil {
		return client.IgnoreNotFound(err)
	}
	ref := metav1.GetControllerOf(m)
	if ref == nil || ref.Kind != r.kind.gvk.Kind || ref.Name != key.Name || !strings.HasPrefix(ref.APIVersion, r.kind.gvk.Group+"/") {
		return nil // not a mirror: someone's own baosync object
	}
	err := r.Delete(ctx, m, client.Preconditions{UID: ptr.To(m.GetUID())}, client.PropagationPolicy(propagation))
	if err = client.IgnoreNotFound(err); err != nil && !apierrors.IsConflict(err) {
		return outcome.FromKube(fmt.Sprintf("delete the mirror %s", key), err)
	}
	return nil
}

// conflictRetry is how soon an object whose mirror name is taken is looked at
// again: the other object's deletion sends this one no event.
const conflictRetry = 30 * time.Second
