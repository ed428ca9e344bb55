package storeref

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
)

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func store(name, ns, class string, ready metav1.ConditionStatus) *v1alpha1.SecretStore {
	s := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1alpha1.SecretStoreSpec{Controller: class}}
	if ready != "" {
		s.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: ready, Reason: "R", Message: "m"}}
	}
	return s
}

func clusterStore(name string, conds ...v1alpha1.ClusterSecretStoreCondition) *v1alpha1.ClusterSecretStore {
	return &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.SecretStoreSpec{Conditions: conds}}
}

func TestResolve_DecidesWhoMayUseWhichStore(t *testing.T) {
	ssRef := v1alpha1.SecretStoreRef{Name: "vault"}
	cssRef := v1alpha1.SecretStoreRef{Name: "shared", Kind: v1alpha1.SecretStoreKindCluster}
	labelled := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	cases := []struct {
		name   string
		scope  scope.Served
		objs   []client.Object
		live   []client.Object // only the uncached reader has these
		ref    v1alpha1.SecretStoreRef
		ns     string
		reason string // "" for success
		class  outcome.Class
		other  bool // ErrOtherController
	}{
		{name: "a ready SecretStore of the namespace is used", objs: []client.Object{store("vault", "app", "", metav1.ConditionTrue)}, ref: ssRef, ns: "app"},
		{name: "a SecretStore of another namespace is not found", objs: []client.Object{store("vault", "other", "", "")}, ref: ssRef, ns: "app",
			reason: v1alpha1.ReasonStoreNotFound, class: outcome.Waiting},
		{name: "a store applied with its objects is found by the live reader", live: []client.Object{store("vault", "app", "", "")}, ref: ssRef, ns: "app"},
		{name: "a store that is not ready makes its objects wait", objs: []client.Object{store("vault", "app", "", metav1.ConditionFalse)}, ref: ssRef, ns: "app",
			reason: v1alpha1.ReasonStoreNotReady, class: outcome.Waiting},
		{name: "a store of another controller class is left alone", objs: []client.Object{store("vault", "app", "other", "")}, ref: ssRef, ns: "app", other: true},
		{name: "an operator of a class serves only that class", scope: scope.Served{Class: "mine"}, objs: []client.Object{store("vault", "app", "", "")}, ref: ssRef, ns: "app", other: true},
		{name: "a namespace-scoped operator leaves other namespaces alone", scope: scope.Served{Namespace: "app"}, objs: []client.Object{store("vault", "b", "", "")}, ref: ssRef, ns: "b", other: true},
		{name: "a namespace-scoped operator refuses a ClusterSecretStore", scope: scope.Served{Namespace: "app"}, objs: []client.Object{clusterStore("shared")}, ref: cssRef, ns: "app",
			reason: v1alpha1.ReasonStoreNotAllowed, class: outcome.Terminal},
		{name: "a ClusterSecretStore without conditions serves every namespace", objs: []client.Object{clusterStore("shared"), namespace("app", nil)}, ref: cssRef, ns: "app"},
		{name: "a ClusterSecretStore allows a namespace by name", objs: []client.Object{clusterStore("shared", v1alpha1.ClusterSecretStoreCondition{Namespaces: []string{"app"}}), namespace("app", nil)}, ref: cssRef, ns: "app"},
		{name: "a ClusterSecretStore allows a namespace by label", objs: []client.Object{clusterStore("shared", v1alpha1.ClusterSecretStoreCondition{NamespaceSelector: labelled}), namespace("app", map[string]string{"team": "a"})}, ref: cssRef, ns: "app"},
		{name: "a ClusterSecretStore allows a namespace by regex", objs: []client.Object{clusterStore("shared", v1alpha1.ClusterSecretStoreCondition{NamespaceRegexes: []string{"^team-"}}), namespace("team-x", nil)}, ref: cssRef, ns: "team-x"},
		{name: "every set field of a condition must match", objs: []client.Object{clusterStore("shared", v1alpha1.ClusterSecretStoreCondition{Namespaces: []string{"app"}, NamespaceSelector: labelled}), namespace("app", nil)}, ref: cssRef, ns: "app",
			reason: v1alpha1.ReasonStoreNotAllowed, class: outcome.Terminal},
		{name: "a ClusterSecretStore refuses a namespace no condition matches", objs: []client.Object{clusterStore("shared", v1alpha1.ClusterSecretStoreCondition{Namespaces: []string{"a"}}), namespace("b", nil)}, ref: cssRef, ns: "b",
			reason: v1alpha1.ReasonStoreNotAllowed, class: outcome.Terminal},
		{name: "an invalid regex is the store's configuration error", objs: []client.Object{clusterStore("shared", v1alpha1.ClusterSecretStoreCondition{NamespaceRegexes: []string{"("}}), namespace("app", nil)}, ref: cssRef, ns: "app",
			reason: v1alpha1.ReasonInvalidStoreConfig, class: outcome.Terminal},
	}
	s := newScheme(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.objs...).Build()
			live := fake.NewClientBuilder().WithScheme(s).WithObjects(append(tc.live, tc.objs...)...).Build()
			got, err := Resolve(context.Background(), c, live, tc.scope, tc.ref, tc.ns)
			switch {
			case tc.other:
				if !errors.Is(err, ErrOtherController) {
					t.Fatalf("got %v, want ErrOtherController", err)
				}
			case tc.reason == "":
				if err != nil || got == nil || got.GetName() != tc.ref.Name {
					t.Fatalf("got %v, %v; want the store", got, err)
				}
			default:
				oe := outcome.As(err, "")
				if err == nil || oe.Reason != tc.reason || oe.Class != tc.class {
					t.Fatalf("got %v (%s/%d), want %s/%d", err, oe.Reason, oe.Class, tc.reason, tc.class)
				}
				if oe.Class == outcome.Waiting && oe.After != 30*time.Second {
					t.Fatalf("waits %v for the store, want 30s", oe.After)
				}
			}
		})
	}
}

func TestKindOf_AReferenceWithoutKindNamesASecretStore(t *testing.T) {
	if got := Describe(v1alpha1.SecretStoreRef{Name: "v"}); got != `SecretStore "v"` {
		t.Fatalf("got %s", got)
	}
	if got := Describe(v1alpha1.SecretStoreRef{Name: "v", Kind: v1alpha1.SecretStoreKindCluster}); got != `ClusterSecretStore "v"` {
		t.Fatalf("got %s", got)
	}
}
