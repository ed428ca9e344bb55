package operatorkey

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func newClient(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func TestKey_IsMadeOnFirstUseAndReadByTheNextProcess(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	first := New(c, c, "baosync-system", DefaultSecretName)
	seal, err := first.Seal(ctx, []byte("record"))
	if err != nil {
		t.Fatal(err)
	}
	next := New(c, c, "baosync-system", DefaultSecretName) // a restart: nothing in memory
	if ok, err := next.Check(ctx, []byte("record"), seal); err != nil || !ok {
		t.Fatalf("the next process does not check the first one's seal: %v, %v", ok, err)
	}
	if ok, _ := next.Check(ctx, []byte("record!"), seal); ok {
		t.Fatal("a changed record passed")
	}
	enc, err := first.Encrypt(ctx, []byte("token"), []byte("client-a"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := next.Decrypt(ctx, enc, []byte("client-a")); err != nil || string(out) != "token" {
		t.Fatalf("Decrypt = %q, %v", out, err)
	}
	if _, err := next.Decrypt(ctx, enc, []byte("client-b")); err == nil {
		t.Fatal("a ciphertext opened for another client")
	}
	// A seal is not the encryption key: each use has its own derived key.
	if seal == "" || string(enc) == seal {
		t.Fatal("derived keys collide")
	}
}

func TestKey_ASecretWithoutAUsableKeyIsAnError(t *testing.T) {
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "baosync-system", Name: DefaultSecretName},
		Data: map[string][]byte{keyField: []byte("short")}}
	c := newClient(t, bad)
	if _, err := New(c, c, "baosync-system", DefaultSecretName).Seal(context.Background(), []byte("x")); err == nil {
		t.Fatal("a short key was used")
	}
}
