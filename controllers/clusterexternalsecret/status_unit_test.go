package clusterexternalsecret

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// TestReconcile_AnEarlyFailureIsReportedAsReadyFalse: a failure before any
// namespace is looked at (the namespaces cannot be listed) is written as
// Ready=False with its Reason and an event, not only returned.
func TestReconcile_AnEarlyFailureIsReportedAsReadyFalse(t *testing.T) {
	ces := &v1alpha1.ClusterExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "shared", Generation: 1}}
	c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(ces).WithStatusSubresource(ces).
		WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.NamespaceList); ok {
				return errors.New("namespaces are forbidden")
			}
			return cl.List(ctx, list, opts...)
		}}).Build()
	rec := events.NewFakeRecorder(10)
	r := New(c, rec)
	if res := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(ces)}); res.Err == nil {
		t.Fatal("the failure was not returned for a retry")
	}
	got := &v1alpha1.ClusterExternalSecret{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(ces), got); err != nil {
		t.Fatal(err)
	}
	ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != v1alpha1.ReasonKubernetesAPIError || !strings.Contains(ready.Message, "namespaces are forbidden") {
		t.Fatalf("Ready is %+v; want False, %s, naming the failure", ready, v1alpha1.ReasonKubernetesAPIError)
	}
	if len(rec.Events) == 0 {
		t.Fatal("no event told the failure")
	}
}
