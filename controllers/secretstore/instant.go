package secretstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/kubeaccess"
)

// streamRecheck bounds how stale a store's InstantUpdates condition is;
// streamAwait is how soon a store whose stream is not connected looks again.
const (
	streamRecheck = 30 * time.Second
	streamAwait   = 5 * time.Second
)

// Feed is what the store reconcilers need of the change feed
// (internal/changefeed.Feed).
type Feed interface {
	Register(store, token string) error
	Unregister(store string)
	Status(store string) (connected bool, last time.Time)
}

// instantUpdates registers the store's audit stream token with the change
// feed and sets the InstantUpdates condition; it returns how soon to look
// again (0: no need).
func (r *storeReconciler) instantUpdates(ctx context.Context, store v1alpha1.GenericStore) time.Duration {
	id := storeID(store)
	iu := store.GetSpec().InstantUpdates
	conds := &store.GetStatus().Conditions
	if iu == nil {
		if r.Feed != nil {
			r.Feed.Unregister(id)
		}
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionInstantUpdates)
		return 0
	}
	set := func(status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: v1alpha1.ConditionInstantUpdates, Status: status,
			ObservedGeneration: store.GetGeneration(), Reason: reason, Message: msg})
	}
	if r.Feed == nil {
		set(metav1.ConditionFalse, v1alpha1.ReasonStreamNotConnected,
			"the operator runs without --change-feed-listen (chart value changeFeed.enabled); refreshes follow refreshInterval")
		return 0
	}
	if iu.StreamTokenSecretRef == nil {
		r.Feed.Unregister(id)
		set(metav1.ConditionFalse, v1alpha1.ReasonStreamNotConnected,
			"instantUpdates names no streamTokenSecretRef: only the refresh endpoint refreshes at once; otherwise refreshes follow refreshInterval")
		return 0
	}
	token, err := r.streamToken(ctx, store, iu.StreamTokenSecretRef)
	if err != nil {
		r.Feed.Unregister(id)
		set(metav1.ConditionFalse, v1alpha1.ReasonStreamNotConnected, err.Error()+"; refreshes follow refreshInterval")
		return streamRecheck
	}
	if err := r.Feed.Register(id, token); err != nil {
		set(metav1.ConditionFalse, v1alpha1.ReasonStreamNotConnected, err.Error()+"; refreshes follow refreshInterval")
		return streamRecheck
	}
	if connected, _ := r.Feed.Status(id); connected {
		set(metav1.ConditionTrue, v1alpha1.ReasonStreamConnected, "the server's audit stream is connected")
	} else {
		set(metav1.ConditionFalse, v1alpha1.ReasonStreamNotConnected,
			"no audit stream with this store's token is connected to the change feed; refreshes follow refreshInterval until it is (docs/instant-updates.md)")
		return streamAwait
	}
	return streamRecheck
}

// streamToken reads the stream token under the store's namespace rules: a
// SecretStore's from its own namespace, a ClusterSecretStore's from the one
// it names.
func (r *storeReconciler) streamToken(ctx context.Context, store v1alpha1.GenericStore, sel *v1alpha1.SecretKeySelector) (string, error) {
	ns := store.GetNamespace()
	if store.GetKind() == v1alpha1.SecretStoreKindCluster {
		if sel.Namespace == nil || *sel.Namespace == "" {
			return "", fmt.Errorf("instantUpdates.streamTokenSecretRef of a ClusterSecretStore must name a namespace")
		}
		ns = *sel.Namespace
	} else if sel.Namespace != nil && *sel.Namespace != "" && *sel.Namespace != ns {
		return "", fmt.Errorf("instantUpdates.streamTokenSecretRef names namespace %q, but a SecretStore may only reference its own namespace", *sel.Namespace)
	}
	key := sel.Key
	if key == "" {
		key = "token"
	}
	kube := &kubeaccess.Access{Reader: r.APIReader, Writer: r.Client}
	b, err := kube.SecretValue(ctx, ns, sel.Name, key)
	if err != nil {
		return "", fmt.Errorf("instantUpdates.streamTokenSecretRef: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 16 {
		return "", fmt.Errorf("instantUpdates.streamTokenSecretRef: key %q of Secret %s/%s holds %d characters; use a random token of at least 16", key, ns, sel.Name, len(token))
	}
	return token, nil
}

// storeID names a store as the provider and the change feed do.
func storeID(store v1alpha1.GenericStore) string {
	return fmt.Sprintf("%s/%s/%s", store.GetKind(), store.GetNamespace(), store.GetName())
}
