package generator

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestUsers_FindsTheReferencingObjectsUnderTheTenantRules: a namespaced
// generator wakes the objects of its own namespace that name it; a
// ClusterGenerator those of every namespace.
func TestUsers_FindsTheReferencingObjectsUnderTheTenantRules(t *testing.T) {
	const index = "spec.selector.generatorRef"
	push := func(ns, name, kind, gen string) *v1alpha1.PushSecret {
		return &v1alpha1.PushSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.PushSecretSpec{Selector: v1alpha1.PushSecretSelector{GeneratorRef: &v1alpha1.GeneratorRef{Kind: kind, Name: gen}}}}
	}
	s := runtime.NewScheme()
	NewWithT(t).Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	NewWithT(t).Expect(v1alpha1.AddToScheme(s)).To(Succeed())
	c := fake.NewClientBuilder().WithScheme(s).
		WithIndex(&v1alpha1.PushSecret{}, index, func(o client.Object) []string {
			return []string{RefKey(*o.(*v1alpha1.PushSecret).Spec.Selector.GeneratorRef)}
		}).
		WithObjects(push("team-a", "mine", "Password", "pw"), push("team-b", "same-name", "Password", "pw"),
			push("team-a", "other", "UUID", "pw"), push("team-a", "shared-a", "ClusterGenerator", "shared"),
			push("team-b", "shared-b", "ClusterGenerator", "shared")).Build()
	for _, tc := range []struct {
		name string
		kind string
		gen  client.Object
		want []string
	}{
		{name: "a namespaced generator wakes its namespace only", kind: "Password",
			gen: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "pw"}}, want: []string{"team-a/mine"}},
		{name: "a ClusterGenerator wakes every namespace", kind: "ClusterGenerator",
			gen: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}, want: []string{"team-a/shared-a", "team-b/shared-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			reqs, err := Users(context.Background(), c, &v1alpha1.PushSecretList{}, index, tc.kind, tc.gen)
			g.Expect(err).NotTo(HaveOccurred())
			var got []string
			for _, r := range reqs {
				got = append(got, r.String())
			}
			g.Expect(got).To(ConsistOf(tc.want))
		})
	}
}
