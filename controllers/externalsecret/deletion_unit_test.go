package externalsecret

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWithoutManagedKeys_HandlesAnySecretATenantCanWrite(t *testing.T) {
	cases := []struct {
		name     string
		secret   *corev1.Secret
		wantData map[string][]byte
		wantKeys int
	}{
		{name: "no data and no annotations", secret: &corev1.Secret{}, wantKeys: 0},
		{name: "annotations but no data", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{AnnotationManagedKeys: "a,b"}}}, wantKeys: 2},
		{name: "keys of others stay", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{AnnotationManagedKeys: "a"}},
			Data: map[string][]byte{"a": []byte("1"), "mine": []byte("2")}},
			wantData: map[string][]byte{"mine": []byte("2")}, wantKeys: 1},
		{name: "an empty managed list removes nothing", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{AnnotationManagedKeys: ""}},
			Data: map[string][]byte{"x": []byte("1")}}, wantData: map[string][]byte{"x": []byte("1")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, keys := withoutManagedKeys(tc.secret)
			if len(keys) != tc.wantKeys {
				t.Fatalf("managed keys = %v, want %d", keys, tc.wantKeys)
			}
			if len(next.Data) != len(tc.wantData) {
				t.Fatalf("data = %v, want %v", next.Data, tc.wantData)
			}
			for k := range tc.wantData {
				if string(next.Data[k]) != string(tc.wantData[k]) {
					t.Fatalf("data[%q] changed", k)
				}
			}
			if next.Annotations[AnnotationDataHash] != contentHash(next.Type, next.Data) {
				t.Fatal("the hash annotation does not match the remaining data")
			}
		})
	}
}
