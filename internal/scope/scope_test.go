package scope

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestServed_ItsClassAndNamespaceOnly(t *testing.T) {
	ss := func(ns, class string) v1alpha1.GenericStore {
		return &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: ns}, Spec: v1alpha1.SecretStoreSpec{Controller: class}}
	}
	css := func(class string) v1alpha1.GenericStore {
		return &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: v1alpha1.SecretStoreSpec{Controller: class}}
	}
	cases := []struct {
		name  string
		scope Served
		store v1alpha1.GenericStore
		want  bool
	}{
		{"a cluster-wide operator serves stores that name no class", Served{}, ss("a", ""), true},
		{"it serves a ClusterSecretStore", Served{}, css(""), true},
		{"it leaves a store of a class alone", Served{}, ss("a", "x"), false},
		{"an operator of a class serves that class only", Served{Class: "x"}, ss("a", "x"), true},
		{"and not stores that name none", Served{Class: "x"}, ss("a", ""), false},
		{"a namespace-scoped operator serves its namespace's SecretStores", Served{Namespace: "a"}, ss("a", ""), true},
		{"but not another namespace's", Served{Namespace: "a"}, ss("b", ""), false},
		{"and no ClusterSecretStore", Served{Namespace: "a"}, css(""), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.scope.Serves(tc.store); got != tc.want {
				t.Fatalf("Serves = %v, want %v", got, tc.want)
			}
		})
	}
	if !(Served{}).ServesNamespace("any") || !(Served{Namespace: "a"}).ServesNamespace("a") || (Served{Namespace: "a"}).ServesNamespace("b") {
		t.Fatal("ServesNamespace")
	}
	if !(Served{}).ClusterWide() || (Served{Namespace: "a"}).ClusterWide() {
		t.Fatal("ClusterWide")
	}
}
