// Package conditions sets the Ready condition the same way for every kind: with
// the object's generation, and with an event when the status or reason changes
// (the transitions a human needs to see), carrying the same reason.
package conditions

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
)

// SetReady sets Ready on conds and records an event on obj when Ready changes.
// A False status is a Warning event; True and Unknown are Normal.
func SetReady(rec recorder.EventRecorder, obj runtime.Object, conds *[]metav1.Condition, generation int64,
	status metav1.ConditionStatus, reason, action, msg string) {
	if !Set(conds, generation, status, reason, msg) {
		return
	}
	eventType := corev1.EventTypeNormal
	if status == metav1.ConditionFalse {
		eventType = corev1.EventTypeWarning
	}
	rec.Eventf(obj, nil, eventType, reason, action, "%s", msg)
}

// Set sets Ready on conds and reports whether its status or reason changed,
// for a caller that decides itself whether to record an event.
func Set(conds *[]metav1.Condition, generation int64, status metav1.ConditionStatus, reason, msg string) bool {
	prev := meta.FindStatusCondition(*conds, v1alpha1.ConditionReady)
	changed := prev == nil || prev.Status != status || prev.Reason != reason
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation,
	})
	return changed
}
