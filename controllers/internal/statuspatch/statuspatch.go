// Package statuspatch writes an object's status once per reconcile, and only
// when it changed, for every kind: a reconcile that changed nothing costs the
// API server no write.
package statuspatch

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/internal/outcome"
)

// IfChanged patches obj's status subresource with a merge patch from before
// when status(before) and status(obj) differ. An object deleted in the
// meantime is no error; a refused or failed write is a KubernetesAPIError
// (outcome.FromKube), so that it is retried like any other.
func IfChanged[T client.Object](ctx context.Context, c client.StatusClient, before, obj T, status func(T) any) error {
	if equality.Semantic.DeepEqual(status(before), status(obj)) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
		return outcome.FromKube("patch status", err)
	}
	return nil
}
