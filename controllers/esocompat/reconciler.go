// Package esocompat is the operator's ESO-compatible mode (--eso-compat): it
// serves External Secrets Operator's own objects (external-secrets.io v1
// SecretStore, ClusterSecretStore, ExternalSecret, ClusterExternalSecret,
// v1alpha1 PushSecret and ClusterPushSecret, and ESO's Password, UUID, VaultDynamicSecret and
// ClusterGenerator generators) whose provider is vault or openBao, as ESO
// v1.3's CRDs install them, so that a team replaces ESO without changing a
// manifest.
//
// Each ESO object it serves gets a mirror: the baosync object of the same
// name that `baosync convert` would make of it, created where the name is
// free, updated only at the resourceVersion read, and controlled by the ESO
// object. The API server admits the mirror under
// baosync's own OpenAPI and CEL rules, and baosync's reconcilers serve it as
// any other object, so an ESO object can do nothing a baosync object of its
// author could not. The mirror's status is written back onto the ESO object
// in ESO's shape (Ready with SecretSynced, SecretSyncedError, …), with ESO's
// events and ESO's status_condition gauges.
package esocompat

import (
	"context"
	"fmt"
	"maps"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
)

// Reconciler serves one of ESO's kinds through its mirrors.
type Reconciler struct {
	// Client writes mirrors and ESO statuses, and reads mirrors from the cache.
	client.Client
	// Cache reads ESO's objects (the manager's cache: the client reads
	// unstructured objects from the API server, not from a cache).
	Cache    client.Reader
	Recorder recorder.EventRecorder
	// Scope is what this operator serves; mirrored stores carry its class.
	Scope scope.Served
	// Class is the ESO controller class served: ESO stores whose
	// spec.controller names it ("" for stores that name none).
	Class   string
	Metrics *Metrics

	kind kind
	memo mirrorMemo
}

// +kubebuilder:rbac:groups=external-secrets.io,resources=secretstores;clustersecretstores;externalsecrets;clusterexternalsecrets;pushsecrets;clusterpushsecrets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=external-secrets.io,resources=secretstores/status;clustersecretstores/status;externalsecrets/status;clusterexternalsecrets/status;pushsecrets/status;clusterpushsecrets/status,verbs=patch
// +kubebuilder:rbac:groups=generators.external-secrets.io,resources=passwords;uuids;vaultdynamicsecrets;clustergenerators,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=secretstores;clustersecretstores;externalsecrets;clusterexternalsecrets;pushsecrets;clusterpushsecrets;passwords;uuids;vaultdynamicsecrets;clustergenerators,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile keeps one ESO object's mirror and copies the mirror's status
// back: get the object, decide whether it is served, handle deletion, mirror
// it, report.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) outcome.Result {
	eso := r.kind.newESO()
	if err := r.Cache.Get(ctx, req.NamespacedName, eso); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return outcome.Failed(err, 0)
		}
		uid := r.memo.uidOf(req.NamespacedName)
		r.forget(req.NamespacedName)
		return outcome.Failed(r.gone(ctx, req.NamespacedName, uid), 0)
	}
	if !eso.GetDeletionTimestamp().IsZero() {
		return r.deleting(ctx, eso)
	}
	d, err := r.serves(ctx, eso)
	if err != nil {
		return outcome.Failed(err, 0)
	}
	if d == notServed { // another operator's (ESO's, during a migration): hands off, status too
		return outcome.Failed(r.handBack(ctx, eso), 0)
	}
	// Marked before it is mirrored: a mirror is always this operator's to
	// hand back, and never another class's to take.
	if err := r.markServed(ctx, eso); err != nil {
		return outcome.Failed(err, 0)
	}
	mirror, err := r.mirror(ctx, eso)
	if err != nil {
		return outcome.Failed(r.refuse(ctx, eso, err), 0)
	}
	if mirror == nil || r.kind.status == nil {
		return outcome.Next(0)
	}
	return outcome.Failed(r.report(ctx, eso, r.kind.status(mirror), r.kind.clears), 0)
}

// deleting finishes the deletion of an ESO object this operator serves (it
// carries v1alpha1.AnnotationServed, or its stores still say so; an ExternalSecret of
// ESO's ClusterExternalSecret goes with its parent); another's is left to it.
func (r *Reconciler) deleting(ctx context.Context, eso *unstructured.Unstructured) outcome.Result {
	if !r.marked(eso) {
		serves := r.serves
		if esoParent(eso) != "" {
			serves = r.servesParent
		}
		d, err := serves(ctx, eso)
		if err != nil {
			return outcome.Failed(err, 0)
		}
		if d != served {
			return outcome.Next(0)
		}
	}
	return r.finalize(ctx, eso)
}

// gone deletes the mirror of an ESO object that is gone (the garbage
// collector would too; this is sooner). The API server is asked first: a
// cache that is behind must not take the mirror of an object recreated
// meanwhile. uid is the gone object's, as this process last mirrored it: a
// mirror whose controller reference names another UID is left alone. After a
// restart it is unknown; the mirror's controller reference then names an
// object that, by name, no longer exists, which is the garbage collector's
// own rule.
func (r *Reconciler) gone(ctx context.Context, key types.NamespacedName, uid types.UID) error {
	err := r.Get(ctx, key, r.kind.newESO())
	if !apierrors.IsNotFound(err) {
		return client.IgnoreNotFound(err) // still there: its own events follow
	}
	_, err = r.dropMirror(ctx, key, uid, metav1.DeletePropagationBackground)
	return err
}

// handBack lets go of an object this operator served and another serves
// now: its mirror goes, keeping what it made (the Secret, leases, pushed
// secrets), and so does the mark. An object this operator never marked is
// left alone, mirror included: another baosync of another class made it.
func (r *Reconciler) handBack(ctx context.Context, eso *unstructured.Unstructured) error {
	key := client.ObjectKeyFromObject(eso)
	r.forget(key)
	if !r.marked(eso) || esoParent(eso) != "" {
		return nil // an object of ESO's ClusterExternalSecret or ClusterPushSecret follows its parent's mark
	}
	gone, err := r.dropMirror(ctx, key, eso.GetUID(), metav1.DeletePropagationOrphan)
	if err == nil && isParent(r.kind.gvk.Kind) {
		err = r.releaseChildren(ctx, eso.GetName())
	}
	if err != nil || !gone {
		return err // the mirror's deletion event brings the object back
	}
	return r.mark(ctx, eso, false)
}

// markServed marks the object as this operator's the first time it is
// served. Generators are not marked: every operator mirrors them (the same
// conversion), and only the objects that use them choose an operator. Nor
// are the ExternalSecrets of ESO's ClusterExternalSecret, which ESO rewrites:
// they follow their parent.
func (r *Reconciler) markServed(ctx context.Context, eso *unstructured.Unstructured) error {
	if r.kind.isGenerator() {
		return nil
	}
	return r.mark(ctx, eso, true) // a no-op when marked already
}

// forget drops what is kept about an object that is gone or not served.
func (r *Reconciler) forget(key types.NamespacedName) {
	r.memo.forget(key)
	r.Metrics.forget(r.kind, key)
}

// report writes s onto the ESO object when it changed, with an event when
// Ready changed, and sets ESO's status_condition gauge. Only the fields s
// holds are written: others ESO wrote (a PushSecret's syncedPushSecrets, say)
// stay, for a way back to ESO.
func (r *Reconciler) report(ctx context.Context, eso *unstructured.Unstructured, s *esoStatus, clears []string) error {
	if s == nil {
		return nil // the mirror has no verdict on its current spec yet
	}
	if w := r.notServed(eso); w != "" { // ESO's condition types are Ready and Deleted only: the Ready message says it
		s.message = strings.TrimPrefix(s.message+"; "+w, "; ")
	}
	want := s.object()
	if r.kind.gvk.Kind == "ExternalSecret" && s.ready == metav1.ConditionTrue {
		want["syncedResourceVersion"] = fmt.Sprintf("%d-%s", eso.GetGeneration(), metaHash(eso))
	}
	have := esoStatusMap(eso)
	next := maps.Clone(have)
	if next == nil {
		next = map[string]any{}
	}
	maps.Copy(next, want)
	for _, k := range clears { // the mirror's status no longer has them
		if _, ok := want[k]; !ok {
			delete(next, k)
		}
	}
	r.Metrics.set(r.kind, eso, s.ready)
	if equalJSON(have, next) {
		return nil
	}
	if ready, reason := readyIn(have); ready != string(s.ready) || reason != s.reason {
		kind := "Normal"
		if s.ready != metav1.ConditionTrue {
			kind = "Warning"
		}
		if s.event != "" {
			r.Recorder.Eventf(eso, nil, kind, s.event, "Sync", "%s", firstNonEmpty(s.message, s.reason))
		}
	}
	before := eso.DeepCopy()
	eso.Object["status"] = next
	return client.IgnoreNotFound(r.Status().Patch(ctx, eso, client.MergeFrom(before)))
}

// notServed says what an object is served without, naming each field (the
// FieldsNotServed Warning event says it too), for its Ready message; empty
// when nothing is dropped. A user who reads only the status sees it there.
func (r *Reconciler) notServed(eso *unstructured.Unstructured) string {
	_, _, dropped, err := r.desiredMirror(eso)
	if err != nil || len(dropped) == 0 {
		return ""
	}
	msg := v1alpha1.ReasonFieldsNotServed + ": served without what baosync does not do: " + messages(dropped)
	if len(msg) > 1024 {
		msg = msg[:1021] + "..."
	}
	return msg
}

// refuse reports an object that cannot be mirrored as ESO reports a failure
// (Ready False with the kind's failure reason, the cause in the message, a
// Warning event) and hands err to outcome.Retrying to log and retry. A
// passing failure of the API server is only retried: it says nothing about
// the object.
func (r *Reconciler) refuse(ctx context.Context, eso *unstructured.Unstructured, cause error) error {
	oe := outcome.As(cause, v1alpha1.ReasonInvalidSpec)
	if oe.Class == outcome.Transient || oe.Class == outcome.Refused {
		return cause
	}
	if r.kind.status == nil { // generators have no status: the event and the log say it
		r.Recorder.Eventf(eso, nil, "Warning", oe.Reason, "Mirror", "%s", cause.Error())
		return cause
	}
	s := &esoStatus{ready: metav1.ConditionFalse, reason: failedReason[r.kind.gvk.Kind], event: failedEvent[r.kind.gvk.Kind],
		message: oe.Reason + ": " + cause.Error(), since: metav1.Now()}
	if ready, reason := readyIn(esoStatusMap(eso)); ready == string(s.ready) && reason == s.reason {
		s.since = sinceIn(esoStatusMap(eso)) // the message may change; the transition time does not
	}
	if err := r.report(ctx, eso, s, nil); err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("Status not written", "error", err.Error())
	}
	return cause
}

// ESO's reasons for a failure, by kind.
var (
	failedReason = map[string]string{"ExternalSecret": "SecretSyncedError", "SecretStore": "InvalidProviderConfig",
		"ClusterSecretStore": "InvalidProviderConfig", "PushSecret": "Errored", "ClusterPushSecret": "Errored"}
	failedEvent = map[string]string{"ExternalSecret": "UpdateFailed", "SecretStore": "InvalidProviderConfig",
		"ClusterSecretStore": "InvalidProviderConfig", "PushSecret": "Errored", "ClusterExternalSecret": "Failed", "ClusterPushSecret": "Errored"}
)

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
