package esocompat

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// TestGone_DeletesOnlyTheMirrorOfTheObjectThatWent: when an ESO object is
// gone, its mirror goes only if the mirror's controller reference names the
// UID this process mirrored (or, unknown after a restart, names an object of
// that name, which no longer exists: the garbage collector's rule).
func TestGone_DeletesOnlyTheMirrorOfTheObjectThatWent(t *testing.T) {
	yes := true
	cases := []struct {
		name     string
		ref      types.UID
		known    types.UID
		wantGone bool
	}{
		{"the mirror of the object this process served", "served", "served", true},
		{"an object whose controller reference names another UID", "forged", "served", false},
		{"unknown after a restart: the garbage collector's rule", "any", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scheme := testenv.NewScheme()
			k := kinds[2]
			scheme.AddKnownTypeWithName(k.gvk, &unstructured.Unstructured{})
			mirror := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "app", UID: "mirror",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: k.gvk.GroupVersion().String(), Kind: k.gvk.Kind, Name: "x", UID: tc.ref, Controller: &yes}}}}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(mirror).Build()
			r := &Reconciler{Client: c, Cache: c, kind: k}
			if err := r.gone(context.Background(), types.NamespacedName{Namespace: "app", Name: "x"}, tc.known); err != nil {
				t.Fatal(err)
			}
			err := c.Get(context.Background(), client.ObjectKeyFromObject(mirror), &v1alpha1.ExternalSecret{})
			if gone := apierrors.IsNotFound(err); gone != tc.wantGone {
				t.Fatalf("mirror deleted: %v, want %v (%v)", gone, tc.wantGone, err)
			}
		})
	}
}
