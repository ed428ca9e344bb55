package externalsecret

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// Preview runs the sync's fetch, templates and render for es against store,
// always reading fresh values, and returns the Secret it would write. It
// writes nothing: generators show the values kept for es, or throwaway ones,
// and no dynamic secret is issued. Errors carry the same Reasons as a sync (outcome errors).
func (r *Reconciler) Preview(ctx context.Context, es *v1alpha1.ExternalSecret, store v1alpha1.GenericStore) (*corev1.Secret, error) {
	values, err := r.fetch(withPreview(ctx), store, es, 0)
	if err != nil {
		return nil, err
	}
	out, err := r.applyTemplates(ctx, es, values)
	if err != nil {
		return nil, err
	}
	return desiredSecret(es, out)
}

// PreviewStore resolves the store es refers to from the cluster, with the
// same rules as a sync, for `baosync render` (which lives outside controllers/).
func (r *Reconciler) PreviewStore(ctx context.Context, es *v1alpha1.ExternalSecret) (v1alpha1.GenericStore, error) {
	return r.resolveStore(ctx, es)
}

// StoreKeys lists the stores es reads, as "Kind/name" (spec.secretStoreRef's
// and every sourceRef.storeRef's), for `baosync render`.
func StoreKeys(es *v1alpha1.ExternalSecret) []string { return storeKeys(es) }

// Reason returns the condition Reason a Preview or PreviewStore error
// carries, or "" when it carries none.
func Reason(err error) string {
	var oe *outcome.Error
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return ""
}
