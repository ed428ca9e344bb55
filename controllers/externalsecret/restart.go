package externalsecret

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// AnnotationRestartedAt is set on the pod template of rollout-restart targets,
// like `kubectl rollout restart` sets kubectl.kubernetes.io/restartedAt.
const AnnotationRestartedAt = "baosync.io/restartedAt"

// No RBAC marker: patching workloads is opt-in (rolloutRestart.enabled in the
// Helm chart, config/components/rollout-restart with kustomize), since it
// amounts to control of their pod specs.

// restartWorkloads annotates the pod template of each rolloutRestartTargets
// workload after the Secret's data changed. A workload that cannot be
// patched gets a Warning event; it does not fail the sync, which succeeded.
func (r *Reconciler) restartWorkloads(ctx context.Context, es *v1alpha1.ExternalSecret) {
	now := r.Clock.Now().UTC().Format(time.RFC3339)
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, AnnotationRestartedAt, now)
	for _, t := range es.Spec.Target.RolloutRestartTargets {
		var obj client.Object
		switch t.Kind {
		case "StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "DaemonSet":
			obj = &appsv1.DaemonSet{}
		default:
			obj = &appsv1.Deployment{}
		}
		obj.SetNamespace(es.Namespace)
		obj.SetName(t.Name)
		if err := r.Patch(ctx, obj, client.RawPatch(types.StrategicMergePatchType, patch)); err != nil {
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
		r.Recorder.Eventf(es, nil, corev1.EventTypeNormal, "RolloutRestarted", "Restart",
			"restarted %s %q because Secret %q changed", t.Kind, t.Name, es.TargetName())
	}
}
