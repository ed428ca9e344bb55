package desired

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/internal/storeref"
)

// TestResolveStore_WithoutSecretStoreRef: an ExternalSecret whose entries all
// name their own source has no store of its own. As in ESO, the store of its
// first entry decides which operator serves it (and is the store the sync
// reuses); one of generators alone is
// served by the operator without a controller class only, within its
// namespace scope, so that two operators never both generate it.
func TestStore_WithoutSecretStoreRef(t *testing.T) {
	classed := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "team-b-store", Namespace: "ns"},
		Spec: v1alpha1.SecretStoreSpec{Controller: "team-b"}}
	for _, tc := range []struct {
		name       string
		scope      scope.Served
		entryStore string // the data entry's sourceRef.storeRef; "" for generators only
		serve      bool
	}{
		{name: "a cluster-wide operator without a class serves generators alone", scope: scope.Served{}, serve: true},
		{name: "an operator scoped to its namespace serves generators alone", scope: scope.Served{Namespace: "ns"}, serve: true},
		{name: "an operator scoped to another namespace leaves it alone", scope: scope.Served{Namespace: "other"}},
		{name: "an operator with a controller class leaves generators alone", scope: scope.Served{Class: "team-b"}},
		{name: "the class of the first entry's store decides: its operator serves it", scope: scope.Served{Class: "team-b"},
			entryStore: "team-b-store", serve: true},
		{name: "the class of the first entry's store decides: the unclassed operator leaves it alone", scope: scope.Served{},
			entryStore: "team-b-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := unitBuilder(t, nil, classed.DeepCopy())
			b.Scope = tc.scope
			es := newES("ns", "app", "")
			if tc.entryStore != "" {
				es.Spec.Data = []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "app"},
					SourceRef: &v1alpha1.StoreSourceRef{StoreRef: v1alpha1.SecretStoreRef{Name: tc.entryStore, Kind: v1alpha1.SecretStoreKindNamespaced}}}}
			}
			store, err := b.Store(context.Background(), es)
			if !tc.serve {
				g.Expect(store).To(BeNil())
				g.Expect(err).To(MatchError(storeref.ErrOtherController))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if tc.entryStore == "" {
				g.Expect(store).To(BeNil(), "generators alone have no store")
				return
			}
			g.Expect(store.GetName()).To(Equal(tc.entryStore), "the first entry's store, resolved once")
		})
	}
}
