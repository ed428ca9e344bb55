package externalsecret

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestContentHash_ChangesWithEveryPartOfTheContent: the hash that marks drift
// must differ when the type, a key, a value or the split between key and value
// differ, and must not depend on map order.
func TestContentHash_ChangesWithEveryPartOfTheContent(t *testing.T) {
	base := map[string][]byte{"a": []byte("1"), "b": []byte("2")}
	h := contentHash(corev1.SecretTypeOpaque, base)
	cases := []struct {
		name string
		typ  corev1.SecretType
		data map[string][]byte
		same bool
	}{
		{name: "the same content in another map", typ: corev1.SecretTypeOpaque, data: map[string][]byte{"b": []byte("2"), "a": []byte("1")}, same: true},
		{name: "another type", typ: corev1.SecretTypeTLS, data: base},
		{name: "another value", typ: corev1.SecretTypeOpaque, data: map[string][]byte{"a": []byte("1"), "b": []byte("3")}},
		{name: "another key", typ: corev1.SecretTypeOpaque, data: map[string][]byte{"a": []byte("1"), "c": []byte("2")}},
		{name: "a key less", typ: corev1.SecretTypeOpaque, data: map[string][]byte{"a": []byte("1")}},
		{name: "no data", typ: corev1.SecretTypeOpaque, data: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := contentHash(tc.typ, tc.data) == h; got != tc.same {
				t.Fatalf("same hash = %v, want %v", got, tc.same)
			}
		})
	}
	t.Run("the boundary between key and value moved", func(t *testing.T) {
		if contentHash("", map[string][]byte{"ab": []byte("c")}) == contentHash("", map[string][]byte{"a": []byte("bc")}) {
			t.Fatal("ab=c and a=bc hash the same")
		}
	})
}

// TestDrifted_SeesEditsSinceBaosyncWrote: a Secret has drifted when its content
// no longer matches the hash baosync annotated; metadata edits are no drift.
func TestDrifted_SeesEditsSinceBaosyncWrote(t *testing.T) {
	written := func() *corev1.Secret {
		s := unitSecret(map[string]string{"k": "v"}, writtenFor("app", "k"))
		s.Annotations[v1alpha1.AnnotationDataHash] = contentHash(s.Type, s.Data)
		return s
	}
	cases := []struct {
		name  string
		edit  func(*corev1.Secret)
		drift bool
	}{
		{name: "untouched", edit: func(*corev1.Secret) {}},
		{name: "a label added", edit: func(s *corev1.Secret) { s.Labels["team"] = "a" }},
		{name: "a value edited", edit: func(s *corev1.Secret) { s.Data["k"] = []byte("tampered") }, drift: true},
		{name: "a key added", edit: func(s *corev1.Secret) { s.Data["extra"] = []byte("x") }, drift: true},
		{name: "a key removed", edit: func(s *corev1.Secret) { delete(s.Data, "k") }, drift: true},
		{name: "the hash annotation removed", edit: func(s *corev1.Secret) { delete(s.Annotations, v1alpha1.AnnotationDataHash) }, drift: true},
		{name: "a Secret baosync never wrote", edit: func(s *corev1.Secret) { s.Annotations = nil }, drift: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := written()
			tc.edit(s)
			if got := drifted(s); got != tc.drift {
				t.Fatalf("drifted = %v, want %v", got, tc.drift)
			}
		})
	}
}

// TestSameSecret_ComparesEverythingAWriteWouldChange.
func TestSameSecret_ComparesEverythingAWriteWouldChange(t *testing.T) {
	cases := []struct {
		name string
		edit func(*corev1.Secret)
		same bool
	}{
		{name: "a copy", edit: func(*corev1.Secret) {}, same: true},
		{name: "another value", edit: func(s *corev1.Secret) { s.Data["k"] = []byte("w") }},
		{name: "another type", edit: func(s *corev1.Secret) { s.Type = corev1.SecretTypeTLS }},
		{name: "another label", edit: func(s *corev1.Secret) { s.Labels["x"] = "y" }},
		{name: "another annotation", edit: func(s *corev1.Secret) { s.Annotations["x"] = "y" }},
		{name: "another owner", edit: controlledBy("app", "uid-now")},
		{name: "made immutable", edit: immutable},
		{name: "another resourceVersion only", edit: func(s *corev1.Secret) { s.ResourceVersion = "42" }, same: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := unitSecret(map[string]string{"k": "v"}, writtenFor("app", "k"))
			b := a.DeepCopy()
			tc.edit(b)
			if got := sameSecret(a, b); got != tc.same {
				t.Fatalf("sameSecret = %v, want %v", got, tc.same)
			}
		})
	}
}
