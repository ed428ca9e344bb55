package statuspatch

import (
	"context"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

func TestIfChanged_WritesOnlyAChangedStatusAndClassifiesFailures(t *testing.T) {
	gone := apierrors.NewNotFound(schema.GroupResource{Resource: "pushsecrets"}, "p")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pushsecrets"}, "p", errors.New("no"))
	cases := []struct {
		name       string
		change     bool
		patchErr   error
		wantPatch  bool
		wantReason string // of the returned error; "" for none
	}{
		{"an unchanged status is not written", false, nil, false, ""},
		{"a changed status is written", true, nil, true, ""},
		{"an object deleted meanwhile is no error", true, gone, true, ""},
		{"a refused write is a KubernetesAPIError", true, forbidden, true, v1alpha1.ReasonKubernetesAPIError},
	}
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
			patched := false
			c := fake.NewClientBuilder().WithScheme(s).WithObjects(before.DeepCopy()).WithStatusSubresource(&v1alpha1.PushSecret{}).
				WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
					patched = true
					if tc.patchErr != nil {
						return tc.patchErr
					}
					return c.SubResource(sub).Patch(ctx, o, p, opts...)
				}}).Build()
			obj := before.DeepCopy()
			if tc.change {
				obj.Status.CreatedRemoteSecrets = []string{"SecretStore/v/k"}
			}
			err := IfChanged(context.Background(), c, before, obj, func(o *v1alpha1.PushSecret) any { return o.Status })
			if patched != tc.wantPatch {
				t.Fatalf("patched %v, want %v", patched, tc.wantPatch)
			}
			switch {
			case tc.wantReason == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.wantReason != "" && (err == nil || outcome.As(err, "").Reason != tc.wantReason):
				t.Fatalf("got %v, want a %s", err, tc.wantReason)
			}
		})
	}
}
