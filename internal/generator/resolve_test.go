package generator

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
)

func TestResolve_FindsGeneratorsUnderTheTenantRules(t *testing.T) {
	s := runtime.NewScheme()
	NewWithT(t).Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	NewWithT(t).Expect(v1alpha1.AddToScheme(s)).To(Succeed())
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(
		&v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "team-a"}, Spec: v1alpha1.PasswordSpec{Length: 12}},
		&v1alpha1.UUID{ObjectMeta: metav1.ObjectMeta{Name: "id", Namespace: "team-a"}},
		&v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: "shared"}, Spec: v1alpha1.ClusterGeneratorSpec{
			Kind: v1alpha1.GeneratorKindPassword, Generator: v1alpha1.GeneratorSpec{PasswordSpec: &v1alpha1.PasswordSpec{Length: 40}}}},
		&v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Name: "db-x", Namespace: "team-a"},
			Spec: v1alpha1.VaultDynamicSecretSpec{Controller: "x", Path: "database/creds/app"}},
		&v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: "db-x"}, Spec: v1alpha1.ClusterGeneratorSpec{
			Kind: v1alpha1.GeneratorKindVaultDynamicSecret, Generator: v1alpha1.GeneratorSpec{
				VaultDynamicSecretSpec: &v1alpha1.VaultDynamicSecretSpec{Controller: "x", Path: "database/creds/app"}}}},
	).Build()
	for _, tc := range []struct {
		name       string
		scope      scope.Served
		namespace  string
		ref        v1alpha1.GeneratorRef
		wantKind   v1alpha1.GeneratorKind
		wantReason string
	}{
		{name: "finds a Password in the object's own namespace", namespace: "team-a",
			ref: v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}, wantKind: v1alpha1.GeneratorKindPassword},
		{name: "finds a UUID in the object's own namespace", namespace: "team-a",
			ref: v1alpha1.GeneratorRef{Kind: "UUID", Name: "id"}, wantKind: v1alpha1.GeneratorKindUUID},
		{name: "never finds another namespace's Password", namespace: "team-b",
			ref: v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}, wantReason: v1alpha1.ReasonGeneratorNotFound},
		{name: "finds a ClusterGenerator from any namespace", namespace: "team-b",
			ref: v1alpha1.GeneratorRef{Kind: "ClusterGenerator", Name: "shared"}, wantKind: v1alpha1.GeneratorKindPassword},
		{name: "refuses a ClusterGenerator on a namespace-scoped operator", namespace: "team-a", scope: scope.Served{Namespace: "team-a"},
			ref: v1alpha1.GeneratorRef{Kind: "ClusterGenerator", Name: "shared"}, wantReason: v1alpha1.ReasonStoreNotAllowed},
		{name: "refuses a VaultDynamicSecret of another controller class", namespace: "team-a",
			ref: v1alpha1.GeneratorRef{Kind: "VaultDynamicSecret", Name: "db-x"}, wantReason: v1alpha1.ReasonStoreNotAllowed},
		{name: "refuses a ClusterGenerator of another controller class", namespace: "team-a",
			ref: v1alpha1.GeneratorRef{Kind: "ClusterGenerator", Name: "db-x"}, wantReason: v1alpha1.ReasonStoreNotAllowed},
		{name: "serves a VaultDynamicSecret of its own class", namespace: "team-a", scope: scope.Served{Class: "x"},
			ref: v1alpha1.GeneratorRef{Kind: "VaultDynamicSecret", Name: "db-x"}, wantKind: v1alpha1.GeneratorKindVaultDynamicSecret},
		{name: "reports a missing ClusterGenerator", namespace: "team-a",
			ref: v1alpha1.GeneratorRef{Kind: "ClusterGenerator", Name: "nope"}, wantReason: v1alpha1.ReasonGeneratorNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			res, err := Resolve(context.Background(), c, tc.scope, tc.namespace, tc.ref)
			if tc.wantReason != "" {
				g.Expect(err).To(HaveOccurred())
				g.Expect(outcome.As(err, "").Reason).To(Equal(tc.wantReason))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Kind).To(Equal(tc.wantKind))
			g.Expect(res.Hash).NotTo(BeEmpty())
		})
	}
}

func TestHashOf_ChangesWithTheSpecOnly(t *testing.T) {
	g := NewWithT(t)
	a := &Resolved{Kind: v1alpha1.GeneratorKindPassword, Name: "pw", Namespace: "ns",
		Spec: v1alpha1.GeneratorSpec{PasswordSpec: &v1alpha1.PasswordSpec{Length: 12}}}
	b := &Resolved{Kind: v1alpha1.GeneratorKindPassword, Name: "pw", Namespace: "ns",
		Spec: v1alpha1.GeneratorSpec{PasswordSpec: &v1alpha1.PasswordSpec{Length: 12}}}
	g.Expect(HashOf(a)).To(Equal(HashOf(b)))
	b.Spec.PasswordSpec.Length = 13
	g.Expect(HashOf(a)).NotTo(Equal(HashOf(b)))
}

func TestResolve_ClusterGeneratorConditions(t *testing.T) {
	s := runtime.NewScheme()
	NewWithT(t).Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	NewWithT(t).Expect(v1alpha1.AddToScheme(s)).To(Succeed())
	role := "db-{namespace}"
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"team": "a"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b", Labels: map[string]string{"team": "b"}}},
		&v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{Name: "for-b"}, Spec: v1alpha1.ClusterGeneratorSpec{
			Kind: v1alpha1.GeneratorKindVaultDynamicSecret, Generator: v1alpha1.GeneratorSpec{
				VaultDynamicSecretSpec: &v1alpha1.VaultDynamicSecretSpec{Path: "database/creds/b"}},
			Conditions: []v1alpha1.ClusterSecretStoreCondition{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}}},
			Tenancy:    &v1alpha1.TenantIdentity{ServiceAccountName: "baosync", Role: &role}}},
	).Build()
	ref := v1alpha1.GeneratorRef{Kind: "ClusterGenerator", Name: "for-b"}
	g := NewWithT(t)
	_, err := Resolve(context.Background(), c, scope.Served{}, "team-a", ref)
	g.Expect(outcome.As(err, "").Reason).To(Equal(v1alpha1.ReasonStoreNotAllowed))
	g.Expect(err.Error()).To(And(ContainSubstring(`ClusterGenerator "for-b"`), ContainSubstring(`does not allow namespace "team-a"`)))
	res, err := Resolve(context.Background(), c, scope.Served{}, "team-b", ref)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Tenancy).NotTo(BeNil(), "the generator's tenancy reaches the ledger")
	withoutTenancy := *res
	withoutTenancy.Tenancy = nil
	g.Expect(HashOf(res)).NotTo(Equal(HashOf(&withoutTenancy)), "a change of tenancy makes new values")
}
