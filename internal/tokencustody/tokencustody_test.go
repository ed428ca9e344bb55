package tokencustody

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/internal/operatorkey"
)

func newStore(t *testing.T) (*Store, client.Client) {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).Build()
	return New(c, c, "baosync-system", operatorkey.Static([]byte("baosync test operator key 32 b.."))), c
}

func TestStore_KeepsATokenEncryptedAndBoundToItsClient(t *testing.T) {
	ctx := context.Background()
	st, c := newStore(t)
	if err := st.Save(ctx, "client-a", "SecretStore/ns/VaultDynamicSecret/db", "ns", "hvs.secret-token"); err != nil {
		t.Fatal(err)
	}
	got, found, err := st.Load(ctx, "client-a")
	if err != nil || !found || got != "hvs.secret-token" {
		t.Fatalf("Load = %q, %v, %v", got, found, err)
	}
	sec := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "baosync-system", Name: name("client-a")}, sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data[tokenField]) == "hvs.secret-token" || len(sec.Data[tokenField]) == 0 {
		t.Fatal("the token is kept in the clear")
	}
	// The same ciphertext under another client's name does not open.
	moved := &corev1.Secret{}
	moved.Namespace, moved.Name, moved.Data = "baosync-system", name("client-b"), sec.Data
	if err := c.Create(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, found, err := st.Load(ctx, "client-b"); err != nil || found {
		t.Fatalf("a record moved to another client opened: found=%v err=%v", found, err)
	}
}

func TestStore_KeepsOneRecordPerOwnerAndABoundedNumberPerNamespace(t *testing.T) {
	ctx := context.Background()
	st, c := newStore(t)
	owner := "SecretStore/team-a/VaultDynamicSecret/db"
	for gen := range 3 { // the generator's spec changed twice
		if err := st.Save(ctx, fmt.Sprintf("%s/uid/%d", owner, gen), owner, "team-a", "tok"); err != nil {
			t.Fatal(err)
		}
	}
	count := func(ns string) int {
		list := &corev1.SecretList{}
		if err := c.List(ctx, list, client.MatchingLabels{LabelNamespace: ns}); err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}
	if n := count("team-a"); n != 1 {
		t.Fatalf("one owner has %d records, want 1", n)
	}
	for i := range 2 * MaxPerNamespace { // a tenant making generators in a loop
		o := fmt.Sprintf("SecretStore/team-b/VaultDynamicSecret/g%d", i)
		if err := st.Save(ctx, o+"/uid/1", o, "team-b", "tok"); err != nil {
			t.Fatal(err)
		}
	}
	if n := count("team-b"); n != MaxPerNamespace {
		t.Fatalf("a namespace has %d records, want at most %d", n, MaxPerNamespace)
	}
	if n := count("team-a"); n != 1 {
		t.Fatalf("another namespace's records went: %d left", n)
	}
}
