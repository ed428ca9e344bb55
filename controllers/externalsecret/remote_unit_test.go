package externalsecret

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/changefeed"
)

func TestPlacement_ASharedStoreIndexesOnlyTheNamespacesOwnPart(t *testing.T) {
	path, label := "secret", "kv-{label:team}"
	store := func(tn *v1alpha1.StoreTenancy) *v1alpha1.ClusterSecretStore {
		return &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "shared"}, Spec: v1alpha1.SecretStoreSpec{Tenancy: tn,
			Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Path: &path, Version: v1alpha1.VaultKVStoreV2}}}}
	}
	shared := store(&v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "b"}, PathPrefix: "apps/{namespace}/"})
	pl, ok := placementOf(shared, "team-a")
	if !ok {
		t.Fatal("a shared store without labels is not placed")
	}
	cases := []struct {
		key  string
		root bool
		want string // empty: not indexed
	}{
		{key: "apps/team-a/db", want: "secret/apps/team-a/db"},
		{key: "secret/data/apps/team-a/db", want: "secret/apps/team-a/db"},
		{key: "apps/team-b/db"},
		{key: "", root: true, want: "secret/apps/team-a"},
		{key: "apps", root: true},
		{key: "apps/team-a/sub", root: true, want: "secret/apps/team-a/sub"},
	}
	for _, c := range cases {
		got, ok := pl.place(c.key, c.root)
		if (c.want == "") == ok || got != c.want {
			t.Errorf("place(%q, root %v) = %q, %v; want %q", c.key, c.root, got, ok, c.want)
		}
	}
	if _, ok := placementOf(store(&v1alpha1.StoreTenancy{TenantIdentity: v1alpha1.TenantIdentity{ServiceAccountName: "b"}, Mount: &label, PathPrefix: "{namespace}"}), "team-a"); ok {
		t.Fatal("a shared store whose templates name labels was indexed")
	}
}

func TestRemoteChanges_AChangeNamesOnlyWhatTheObjectReads(t *testing.T) {
	rc := NewRemoteChanges(nil)
	finder := types.NamespacedName{Namespace: "a", Name: "finder"}
	reader := types.NamespacedName{Namespace: "a", Name: "reader"}
	rc.index(finder, []reading{{store: "s", path: "secret/apps", root: true}}, map[string]string{"s": ""}, time.Now())
	rc.index(reader, []reading{{store: "s", path: "secret/apps/db"}}, map[string]string{"s": ""}, time.Now())
	rc.Changed("s", changefeed.Change{Mount: "secret", Path: "data/apps/other/secret-name", Received: time.Now()})
	ch, ok := rc.take(finder)
	if !ok || ch.what != "a change of paths under secret/apps reported by the server's audit stream" {
		t.Fatalf("finder: %+v, %v", ch, ok)
	}
	if _, ok := rc.take(reader); ok {
		t.Fatal("a change of another path made the reader due")
	}
	first := time.Now()
	rc.Changed("s", changefeed.Change{Mount: "secret", Path: "data/apps/db", Received: first})
	rc.Changed("s", changefeed.Change{Mount: "secret", Path: "data/apps/db", Received: first.Add(time.Second)})
	if ch, _ := rc.take(reader); !ch.at.Equal(first.Add(time.Second)) {
		t.Fatalf("two changes: reads after %s accepted; want only after the later one", ch.at)
	}
}
