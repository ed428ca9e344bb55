package esocompat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert"
	"github.com/baosync/baosync/internal/outcome"
)

// FieldOwner is the field manager of the mirrors' writes.
const FieldOwner = "baosync-eso-compat"

// conflictRetry is how soon an object whose mirror name is taken is looked at
// again: the other object's deletion sends this one no event.
const conflictRetry = 30 * time.Second

// mirror brings the ESO object's mirror in line with its conversion and
// returns it as last read, or nil when it was written just now (its status
// follows with the watch). A name held by anything else is never taken:
// creation fails if the name exists, and an update carries the
// resourceVersion it read.
func (r *Reconciler) mirror(ctx context.Context, eso *unstructured.Unstructured) (client.Object, error) {
	existing := r.kind.newMirror()
	err := r.Get(ctx, client.ObjectKeyFromObject(eso), existing)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, outcome.FromKube("read the mirror", err)
	}
	found := err == nil
	if found && !mirrors(existing, eso) {
		return nil, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, conflictRetry,
			"a baosync.io %s named %q already exists and is not this object's mirror; rename one of them", r.kind.gvk.Kind, eso.GetName())
	}
	if found && existing.GetDeletionTimestamp() != nil {
		// Handed back or deleted: an update now could drop keep-on-delete. Its
		// deletion event brings the object back.
		return nil, nil
	}
	if found && controlledBy(existing, eso) && r.memo.current(eso, existing.GetAnnotations()[v1alpha1.AnnotationMirror]) {
		return existing, nil
	}
	desired, hash, dropped, err := r.desiredMirror(eso)
	if err != nil {
		return nil, err
	}
	r.memo.remember(eso, hash)
	if found && controlledBy(existing, eso) && existing.GetAnnotations()[v1alpha1.AnnotationMirror] == hash {
		return existing, nil
	}
	if !found {
		existing = nil
	}
	return nil, r.write(ctx, eso, existing, desired, dropped)
}

// write creates the mirror (existing nil) or updates it, and says on the ESO
// object what it is served without: once per change of the object, on the
// object the user wrote, never dropped in silence.
func (r *Reconciler) write(ctx context.Context, eso *unstructured.Unstructured, existing client.Object, desired *unstructured.Unstructured,
	dropped []esoconvert.Warning) error {
	var err error
	if existing == nil {
		err = r.Create(ctx, desired, client.FieldOwner(FieldOwner))
	} else {
		desired.SetResourceVersion(existing.GetResourceVersion())
		desired.SetFinalizers(existing.GetFinalizers()) // baosync's own (lease revocation, pushed-secret cleanup)
		err = r.Update(ctx, desired, client.FieldOwner(FieldOwner))
	}
	if err == nil && len(dropped) > 0 {
		r.Recorder.Eventf(eso, nil, corev1.EventTypeWarning, v1alpha1.ReasonFieldsNotServed, "Mirror",
			"served without what baosync does not do: %s", messages(dropped))
	}
	return writeError(err)
}

// writeError classifies a failed write of a mirror.
func writeError(err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "baosync's admission refuses this object: %s", esoconvert.Refusal(err))
	case apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err):
		// The cache has not seen the latest: read again soon, report nothing.
		return outcome.Refusedf(v1alpha1.ReasonKubernetesAPIError, "the mirror changed meanwhile: %v", err)
	}
	return outcome.FromKube("write the mirror", err)
}

// desiredMirror converts the ESO object with `baosync convert`'s mapping and
// returns it with the hash recorded in v1alpha1.AnnotationMirror, and the conversion's
// warnings (fields dropped). The mirror keeps the
// object's name, labels and annotations (an ExternalSecret's reach its
// Secret, as in ESO) and is controlled by it, so that it goes when the ESO
// object goes.
func (r *Reconciler) desiredMirror(eso *unstructured.Unstructured) (*unstructured.Unstructured, string, []esoconvert.Warning, error) {
	meta := map[string]any{"name": eso.GetName()}
	if ns := eso.GetNamespace(); ns != "" {
		meta["namespace"] = ns
	}
	if l := eso.GetLabels(); len(l) > 0 {
		meta["labels"] = l
	}
	if a := ownAnnotations(eso); len(a) > 0 {
		meta["annotations"] = a
	}
	doc, err := yaml.Marshal(map[string]any{"apiVersion": eso.GetAPIVersion(), "kind": eso.GetKind(), "metadata": meta, "spec": eso.Object["spec"]})
	if err != nil {
		return nil, "", nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "cannot read the object: %v", err)
	}
	out, warnings, _ := esoconvert.Object(doc)
	if out == nil {
		return nil, "", nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "baosync cannot serve this object as it is: %s", messages(warnings))
	}
	m := &unstructured.Unstructured{}
	j, err := yaml.YAMLToJSON(out)
	if err == nil {
		err = m.UnmarshalJSON(j)
	}
	if err != nil {
		return nil, "", nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "cannot read the converted object: %v", err)
	}
	m.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: eso.GetAPIVersion(), Kind: eso.GetKind(),
		Name: eso.GetName(), UID: eso.GetUID(), Controller: ptr.To(true)}})
	r.adjust(m)
	hash := hashOf(m.Object)
	setAnnotation(m, v1alpha1.AnnotationMirror, hash)
	return m, hash, warnings, nil
}

// adjust fits the converted object to this operator: a store's ESO class was
// matched already, so its mirror carries the class baosync serves; an
// ExternalSecret (and those a ClusterExternalSecret makes) take over the
// Secret that ESO wrote for the ExternalSecret of their name, in place.
func (r *Reconciler) adjust(m *unstructured.Unstructured) {
	switch m.GetKind() {
	case "SecretStore", "ClusterSecretStore":
		if r.Scope.Class == "" {
			unstructured.RemoveNestedField(m.Object, "spec", "controller")
		} else {
			_ = unstructured.SetNestedField(m.Object, r.Scope.Class, "spec", "controller")
		}
	case "ExternalSecret":
		setAnnotation(m, v1alpha1.AnnotationTakeOver, "true")
	case "ClusterExternalSecret":
		_ = unstructured.SetNestedField(m.Object, "true", "spec", "externalSecretMetadata", "annotations", v1alpha1.AnnotationTakeOver)
	}
}

func setAnnotation(m *unstructured.Unstructured, key, value string) {
	a := m.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	m.SetAnnotations(a)
}

// hashOf hashes decoded JSON (encoding/json sorts map keys).
func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// messages joins the warnings of a conversion that failed, the failures first.
func messages(warnings []esoconvert.Warning) string {
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

// mirrors reports whether o is (or was) the ESO object's mirror: controlled
// by it, or a mirror without a controller (its ESO object was deleted with
// --cascade=orphan), which an ESO object of its name takes back.
func mirrors(o client.Object, eso *unstructured.Unstructured) bool {
	return controlledBy(o, eso) || (metav1.GetControllerOf(o) == nil && o.GetAnnotations()[v1alpha1.AnnotationMirror] != "")
}

// hasMirror reports whether the ESO object has a mirror now.
func (r *Reconciler) hasMirror(ctx context.Context, eso *unstructured.Unstructured) bool {
	m := r.kind.newMirror()
	return r.Get(ctx, client.ObjectKeyFromObject(eso), m) == nil && controlledBy(m, eso)
}

// dropMirror deletes the mirror of the ESO object key names (of that uid,
// when given) and reports whether it is gone. Propagation Background goes
// with the ESO object: what the mirror owns goes too and its finalizers run,
// as ESO cleans up. Orphan is for an object this operator stops serving: the
// Secret stays, and the mirror's finalizers keep the leases and the pushed
// secrets for whoever serves the object next.
func (r *Reconciler) dropMirror(ctx context.Context, key types.NamespacedName, uid types.UID, propagation metav1.DeletionPropagation) (bool, error) {
	m := r.kind.newMirror()
	if err := r.Get(ctx, key, m); err != nil {
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}
	ref := metav1.GetControllerOf(m)
	if ref == nil || ref.Kind != r.kind.gvk.Kind || ref.Name != key.Name || !strings.HasPrefix(ref.APIVersion, r.kind.gvk.Group+"/") ||
		(uid != "" && ref.UID != uid) {
		return true, nil // not this object's mirror: someone's own baosync object
	}
	if m.GetDeletionTimestamp() != nil {
		return false, nil
	}
	var err error
	if propagation == metav1.DeletePropagationOrphan {
		err = r.keepAndOrphan(ctx, m)
	} else {
		err = r.Delete(ctx, m, atReadVersion(m), client.PropagationPolicy(propagation))
	}
	if err = client.IgnoreNotFound(err); err != nil && !apierrors.IsConflict(err) {
		return false, outcome.FromKube(fmt.Sprintf("delete the mirror %s", key), err)
	}
	return false, nil
}

// keepAndOrphan lets go of a baosync object so that what it made stays: it
// is annotated keep-on-delete (durable, unlike the orphan finalizer, which the
// garbage collector may take off before the object's finalizers run, so its
// leases and pushed secrets are kept), then deleted with propagation Orphan
// (its Secret stays).
func (r *Reconciler) keepAndOrphan(ctx context.Context, o client.Object) error {
	if !v1alpha1.KeepsOnDelete(o.GetAnnotations(), nil) {
		if err := r.annotate(ctx, o, v1alpha1.AnnotationKeepOnDelete, ptr.To("true")); err != nil {
			return err
		}
	}
	return r.Delete(ctx, o, atReadVersion(o), client.PropagationPolicy(metav1.DeletePropagationOrphan))
}

// atReadVersion makes a deletion apply only to the object as it was read:
// one recreated, changed or just orphaned by the garbage collector (its owner
// deleted with --cascade=orphan) meanwhile is not deleted.
func atReadVersion(o client.Object) client.Preconditions {
	return client.Preconditions{UID: ptr.To(o.GetUID()), ResourceVersion: ptr.To(o.GetResourceVersion())}
}
