package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/storeref"
	"github.com/baosync/baosync/controllers/scope"
)

// TestResolveStore_WithoutSecretStoreRefOnlyTheUnclassedOperatorServes: an
// ExternalSecret whose entries all name their own source has no store to say
// whose it is; only the operator without a controller class, within its
// namespace scope, takes it, so that two operators never both generate it.
func TestResolveStore_WithoutSecretStoreRefOnlyTheUnclassedOperatorServes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scope scope.Operator
		serve bool
	}{
		{name: "a cluster-wide operator without a class serves it", scope: scope.Operator{}, serve: true},
		{name: "an operator scoped to its namespace serves it", scope: scope.Operator{Namespace: "ns"}, serve: true},
		{name: "an operator scoped to another namespace leaves it alone", scope: scope.Operator{Namespace: "other"}},
		{name: "an operator with a controller class leaves it alone", scope: scope.Operator{Class: "team-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, _ := unitReconciler(t)
			r.Scope = tc.scope
			es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
			es.Spec.SecretStoreRef = v1alpha1.SecretStoreRef{}
			store, err := r.resolveStore(context.Background(), es)
			g.Expect(store).To(BeNil())
			if tc.serve {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(storeref.ErrOtherController))
		})
	}
}
