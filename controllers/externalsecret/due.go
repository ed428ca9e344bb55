package externalsecret

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// syncDue decides whether this reconcile reads the remote values, and if not,
// when to look again. It reads no server: a reconcile that was triggered by
// baosync's own write of the Secret, or by a status change, costs nothing.
func (r *Reconciler) syncDue(es *v1alpha1.ExternalSecret, target *corev1.Secret) (bool, time.Duration) {
	in := syncInput{
		now:           r.Clock.Now(),
		policy:        es.Spec.RefreshPolicy,
		interval:      refreshInterval(es),
		refreshTime:   es.Status.RefreshTime.Time,
		specChanged:   es.Status.SyncedResourceVersion != resourceVersionOf(es),
		lastFailed:    !isReady(es),
		targetMissing: target == nil,
		targetDrifted: target != nil && drifted(target),
		writesNothing: es.Spec.Target.CreationPolicy == v1alpha1.CreationPolicyNone,
	}
	// The cached status may predate this operator's own last sync.
	if rec, ok := r.memo.recall(client.ObjectKeyFromObject(es), es.UID); ok && rec.version == resourceVersionOf(es) && rec.at.After(in.refreshTime) {
		in.refreshTime, in.specChanged, in.lastFailed = rec.at, false, false
	}
	return decideSync(in)
}

// syncInput is everything decideSync looks at.
type syncInput struct {
	now           time.Time
	policy        v1alpha1.RefreshPolicy
	interval      time.Duration
	refreshTime   time.Time
	specChanged   bool
	lastFailed    bool
	targetMissing bool
	targetDrifted bool
	writesNothing bool
}

// decideSync is the pure refresh decision: sync at once after a change of the
// ExternalSecret or a failure, when the target Secret is missing or was edited
// (drift), and otherwise when the refresh interval has elapsed.
func decideSync(in syncInput) (bool, time.Duration) {
	if in.specChanged || in.lastFailed {
		return true, 0
	}
	switch in.policy {
	case v1alpha1.RefreshPolicyCreatedOnce:
		return in.targetMissing && !in.writesNothing, 0
	case v1alpha1.RefreshPolicyOnChange:
		return (in.targetMissing || in.targetDrifted) && !in.writesNothing, 0
	}
	if (in.targetMissing || in.targetDrifted) && !in.writesNothing {
		return true, 0
	}
	if in.interval <= 0 {
		return false, 0
	}
	next := in.refreshTime.Add(in.interval)
	if !in.now.Before(next) {
		return true, 0
	}
	return false, outcome.Jitter(next.Sub(in.now))
}

// refreshInterval is spec.refreshInterval (default one hour).
func refreshInterval(es *v1alpha1.ExternalSecret) time.Duration {
	if es.Spec.RefreshInterval == nil {
		return time.Hour
	}
	return es.Spec.RefreshInterval.Duration
}

func isReady(es *v1alpha1.ExternalSecret) bool {
	return meta.IsStatusConditionTrue(es.Status.Conditions, v1alpha1.ConditionReady)
}

// resourceVersionOf identifies what was synced: the generation (spec) and a hash
// of labels and annotations, so that a new value of the force-sync annotation
// triggers a sync.
func resourceVersionOf(es *v1alpha1.ExternalSecret) string {
	return fmt.Sprintf("%d-%s", es.Generation, hashStrings(es.Labels, es.Annotations))
}

// hashStrings hashes string maps in a stable order.
func hashStrings(maps ...map[string]string) string {
	h := sha256.New()
	for _, m := range maps {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_, _ = fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(m[k]), m[k])
		}
		_, _ = h.Write([]byte{'|'})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
