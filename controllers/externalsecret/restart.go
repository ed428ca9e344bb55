package externalsecret

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// No RBAC marker: patching workloads (and Argo Rollouts) is opt-in (rolloutRestart.enabled in the
// Helm chart, config/components/rollout-restart with kustomize), since it
// amounts to control of their pod specs.

// restartWorkloads restarts each rolloutRestartTargets workload after the
// Secret's data changed: the pod template of a Deployment, StatefulSet or
// DaemonSet is annotated (as `kubectl rollout restart` does), an Argo
// Rollout gets spec.restartAt (as `kubectl argo rollouts restart` does). A
// workload that cannot be patched gets a Warning event; it does not fail the
// sync, which succeeded.
func (r *Reconciler) restartWorkloads(ctx context.Context, es *v1alpha1.ExternalSecret) {
	now := r.Clock.Now().UTC().Format(time.RFC3339)
	for _, t := range es.Spec.Target.RolloutRestartTargets {
		obj, patch := restartPatch(t.Kind, now)
		obj.SetNamespace(es.Namespace)
		obj.SetName(t.Name)
		if err := r.Patch(ctx, obj, patch); err != nil {
			logger(ctx).Error(err, "Failed to restart workload", "kind", t.Kind, "name", t.Name)
			msg := err.Error()
			if apierrors.IsForbidden(err) {
				msg = "the operator has no permission to patch " + t.Kind + "s in this namespace; an admin grants it with " +
					"the Helm value rolloutRestart.enabled=true or the kustomize component config/components/rollout-restart"
			}
			r.Recorder.Eventf(es, nil, corev1.EventTypeWarning, v1alpha1.ReasonRolloutRestartFailed, "Restart",
				"could not restart %s %q after the Secret changed: %s", t.Kind, t.Name, msg)
			continue
		}
		r.Recorder.Eventf(es, nil, corev1.EventTypeNormal, v1alpha1.ReasonRolloutRestarted, "Restart",
			"restarted %s %q because Secret %q changed", t.Kind, t.Name, es.TargetName())
	}
}

// KindArgoRollout is how rolloutRestartTargets names an Argo Rollout, as the
// Vault Secrets Operator does.
const KindArgoRollout = "argo.Rollout"

// restartPatch is the object and patch that restart a workload of kind at now.
func restartPatch(kind, now string) (client.Object, client.Patch) {
	if kind == KindArgoRollout {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"})
		// A custom resource takes no strategic merge patch.
		return u, client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"restartAt":%q}}`, now))
	}
	patch := client.RawPatch(types.StrategicMergePatchType,
		fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, v1alpha1.AnnotationRestartedAt, now))
	switch kind {
	case "StatefulSet":
		return &appsv1.StatefulSet{}, patch
	case "DaemonSet":
		return &appsv1.DaemonSet{}, patch
	}
	return &appsv1.Deployment{}, patch
}
