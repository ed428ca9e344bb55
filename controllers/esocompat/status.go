package esocompat

import (
	"bytes"
	"encoding/json"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// esoStatus is an ESO object's status as ESO writes it, taken from its
// mirror's: the Ready condition with ESO's reasons, and the other fields of
// the kind (refreshTime, binding, capabilities, …).
type esoStatus struct {
	ready   metav1.ConditionStatus
	reason  string // ESO's reason; "" for kinds whose condition has none
	message string
	since   metav1.Time
	// event is the reason of the event that records a change of Ready.
	event string
	extra map[string]any
}

// object is the status in ESO's JSON shape.
func (s *esoStatus) object() map[string]any {
	cond := map[string]any{"type": v1alpha1.ConditionReady, "status": string(s.ready)}
	if s.reason != "" {
		cond["reason"] = s.reason
	}
	if s.message != "" {
		cond["message"] = s.message
	}
	if !s.since.IsZero() {
		cond["lastTransitionTime"] = timestamp(s.since)
	}
	out := map[string]any{"conditions": []any{cond}}
	for k, v := range s.extra {
		out[k] = v
	}
	return out
}

// readyOf returns the mirror's Ready condition once it has a verdict on the
// mirror's current spec (an older verdict would report a spec never synced).
func readyOf(mirror client.Object, conditions []metav1.Condition) *metav1.Condition {
	c := meta.FindStatusCondition(conditions, v1alpha1.ConditionReady)
	if c == nil || c.Status == metav1.ConditionUnknown || c.ObservedGeneration != mirror.GetGeneration() {
		return nil
	}
	return c
}

// failure is the message of a failed condition: ESO's messages are generic
// ("could not get secret data from provider"); baosync's Reason and message
// say what to fix, so both are kept.
func failure(c *metav1.Condition) string { return c.Reason + ": " + c.Message }

func timestamp(t metav1.Time) string { return t.UTC().Format(time.RFC3339) }

// externalSecretStatus maps an ExternalSecret's status to ESO's: Ready with
// SecretSynced, SecretSyncedError, SecretDeleted or SecretMissing (ESO
// reports a Merge target that does not exist as Ready, reason SecretMissing).
func externalSecretStatus(o client.Object) *esoStatus {
	es, ok := o.(*v1alpha1.ExternalSecret)
	if !ok {
		return nil
	}
	c := readyOf(es, es.Status.Conditions)
	if c == nil {
		return nil
	}
	s := &esoStatus{ready: metav1.ConditionTrue, since: c.LastTransitionTime, extra: map[string]any{}}
	switch {
	case c.Reason == v1alpha1.ReasonTargetMissing:
		s.reason, s.message, s.event = "SecretMissing", "secret will not be created due to CreationPolicy=Merge", "UpdateFailed"
	case c.Reason == v1alpha1.ReasonSecretDeleted:
		s.reason, s.message, s.event = "SecretDeleted", "secret deleted due to DeletionPolicy=Delete", "Deleted"
	case c.Status == metav1.ConditionTrue:
		s.reason, s.message, s.event = "SecretSynced", "secret synced", "Updated"
	default:
		s.ready, s.reason, s.message, s.event = metav1.ConditionFalse, "SecretSyncedError", failure(c), "UpdateFailed"
	}
	if !es.Status.RefreshTime.IsZero() {
		s.extra["refreshTime"] = timestamp(es.Status.RefreshTime)
	}
	if es.Status.Binding.Name != "" {
		s.extra["binding"] = map[string]any{"name": es.Status.Binding.Name}
	}
	return s
}

// storeStatus maps a store's status to ESO's: Ready with Valid or
// InvalidProviderConfig, and the capabilities.
func storeStatus(o client.Object) *esoStatus {
	store, ok := o.(v1alpha1.GenericStore)
	if !ok {
		return nil
	}
	c := readyOf(store, store.GetStatus().Conditions)
	if c == nil {
		return nil
	}
	s := &esoStatus{ready: c.Status, since: c.LastTransitionTime, extra: map[string]any{}}
	if c.Status == metav1.ConditionTrue {
		s.reason, s.message = "Valid", "store validated"
	} else {
		s.reason, s.message = "InvalidProviderConfig", failure(c)
	}
	s.event = s.reason
	if caps := store.GetStatus().Capabilities; caps != "" {
		s.extra["capabilities"] = string(caps)
	}
	return s
}

// pushSecretStatus maps a PushSecret's status to ESO's: Ready with Synced
// or Errored, and refreshTime.
func pushSecretStatus(o client.Object) *esoStatus {
	ps, ok := o.(*v1alpha1.PushSecret)
	if !ok {
		return nil
	}
	c := readyOf(ps, ps.Status.Conditions)
	if c == nil {
		return nil
	}
	s := &esoStatus{ready: c.Status, since: c.LastTransitionTime, extra: map[string]any{}}
	if c.Status == metav1.ConditionTrue {
		s.reason, s.message = "Synced", "PushSecret synced successfully"
	} else {
		s.reason, s.message = "Errored", failure(c)
	}
	s.event = s.reason
	if !ps.Status.RefreshTime.IsZero() {
		s.extra["refreshTime"] = timestamp(ps.Status.RefreshTime)
	}
	return s
}

// clusterExternalSecretStatus maps a ClusterExternalSecret's status to
// ESO's: a Ready condition without a reason, the ExternalSecret's name and
// the namespaces provisioned and failed.
func clusterExternalSecretStatus(o client.Object) *esoStatus {
	ces, ok := o.(*v1alpha1.ClusterExternalSecret)
	if !ok {
		return nil
	}
	st := ces.Status
	return fanoutStatus(ces, st.Conditions, "externalSecretName", st.ExternalSecretName, st.ProvisionedNamespaces, st.FailedNamespaces)
}

// clusterPushSecretStatus is ESO's status of a ClusterPushSecret from its
// mirror's.
func clusterPushSecretStatus(o client.Object) *esoStatus {
	cps, ok := o.(*v1alpha1.ClusterPushSecret)
	if !ok {
		return nil
	}
	st := cps.Status
	return fanoutStatus(cps, st.Conditions, "pushSecretName", st.PushSecretName, st.ProvisionedNamespaces, st.FailedNamespaces)
}

// fanoutStatus is ESO's status of a cluster kind that makes an object per
// namespace: Ready, the name of what it makes (under nameKey), and the
// provisioned and failed namespaces.
func fanoutStatus(o client.Object, conds []metav1.Condition, nameKey, name string, provisioned []string,
	failures []v1alpha1.ClusterExternalSecretNamespaceFailure) *esoStatus {
	c := readyOf(o, conds)
	if c == nil {
		return nil
	}
	s := &esoStatus{ready: c.Status, since: c.LastTransitionTime, event: c.Reason, extra: map[string]any{}}
	if c.Status != metav1.ConditionTrue {
		s.message = failure(c)
	}
	if name != "" {
		s.extra[nameKey] = name
	}
	if len(provisioned) > 0 {
		s.extra["provisionedNamespaces"] = toAny(provisioned)
	}
	var failed []any
	for _, f := range failures {
		failed = append(failed, map[string]any{"namespace": f.Namespace, "reason": f.Reason})
	}
	if len(failed) > 0 {
		s.extra["failedNamespaces"] = failed
	}
	return s
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// esoStatusMap returns the ESO object's status as decoded JSON.
func esoStatusMap(eso *unstructured.Unstructured) map[string]any {
	s, _, _ := unstructured.NestedMap(eso.Object, "status")
	return s
}

// readyIn returns the status and reason of the Ready condition in an ESO
// status.
func readyIn(status map[string]any) (ready, reason string) {
	c := readyCondition(status)
	ready, _ = c["status"].(string)
	reason, _ = c["reason"].(string)
	return ready, reason
}

// sinceIn returns the Ready condition's lastTransitionTime in an ESO status.
func sinceIn(status map[string]any) metav1.Time {
	s, _ := readyCondition(status)["lastTransitionTime"].(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return metav1.Now()
	}
	return metav1.NewTime(t)
}

func readyCondition(status map[string]any) map[string]any {
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == v1alpha1.ConditionReady {
			return m
		}
	}
	return nil
}

// equalJSON compares two decoded JSON values as JSON (numbers may be int64
// on one side and float64 on the other).
func equalJSON(a, b map[string]any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
