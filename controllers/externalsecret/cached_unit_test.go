package externalsecret

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestSlimSecret_TheCacheHoldsNoDataAndBoundedMetadata(t *testing.T) {
	data := map[string][]byte{"password": []byte(strings.Repeat("s", 1<<20))}
	cases := []struct {
		name        string
		annotations map[string]string
		wantTrimmed bool
	}{
		{"a managed Secret keeps its metadata", map[string]string{v1alpha1.AnnotationExternalSecret: "app"}, false},
		{"a tenant's forged cache marks are replaced", map[string]string{annotationObservedHash: "forged", annotationCacheTrimmed: "false"}, false},
		{"metadata past the bound is a stub read live", map[string]string{"big": strings.Repeat("a", maxCachedMetadata)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "t", Labels: map[string]string{v1alpha1.LabelManaged: "true"},
				Annotations: tc.annotations}, Type: corev1.SecretTypeOpaque, Data: data}
			out, err := slimSecret(in)
			if err != nil {
				t.Fatal(err)
			}
			slim := out.(*corev1.Secret)
			if slim.Data != nil || slim.StringData != nil {
				t.Fatal("the cached Secret holds data")
			}
			if got := observedHash(slim); got != contentHash(in.Type, data) {
				t.Fatalf("observed hash %q, want the data's", got)
			}
			if trimmed(slim) != tc.wantTrimmed || metadataSize(slim) > maxCachedMetadata+128 {
				t.Fatalf("trimmed %v (want %v), %d bytes of metadata kept", trimmed(slim), tc.wantTrimmed, metadataSize(slim))
			}
			if drifted(slim) == (in.Annotations[v1alpha1.AnnotationDataHash] == contentHash(in.Type, data)) {
				t.Fatal("drift is not judged from the observed hash")
			}
		})
	}
}

func TestSameSecret_ACachedSecretIsComparedByItsDataHash(t *testing.T) {
	next := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: map[string]string{"a": "b"}},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}
	out, _ := slimSecret(next.DeepCopy())
	cached := out.(*corev1.Secret)
	if !sameSecret(cached, next) {
		t.Fatal("an unchanged Secret would be written again")
	}
	changed := next.DeepCopy()
	changed.Data["k"] = []byte("w")
	if sameSecret(cached, changed) {
		t.Fatal("a change of data was not seen")
	}
	live := next.DeepCopy()
	live.Annotations[annotationObservedHash] = contentHash(changed.Type, changed.Data) // set by a tenant
	dropCacheMarks(live)
	if sameSecret(live, changed) {
		t.Fatal("a tenant's observed-hash annotation on a live Secret was trusted")
	}
}

// TestSlimSecret_ASecondPassKeepsTheHashAndAForgedMarkIsNotTrusted: the
// informer may hand the transform an object it already slimmed (a relist);
// hashing the missing data then made every Secret look drifted, and an
// operator restart rewrote and re-synced every object. A tenant's copy of the
// mark on a Secret without data is not this process's.
func TestSlimSecret_ASecondPassKeepsTheHashAndAForgedMarkIsNotTrusted(t *testing.T) {
	in := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "t", Labels: map[string]string{v1alpha1.LabelManaged: "true"}},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}
	once, _ := slimSecret(in.DeepCopy())
	twice, _ := slimSecret(once)
	if got, want := observedHash(twice.(*corev1.Secret)), contentHash(in.Type, in.Data); got != want {
		t.Fatalf("a second pass hashed %q; want the data's %q", got, want)
	}
	forged := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "f", Annotations: map[string]string{
		annotationCacheNonce: "guess", annotationObservedHash: contentHash(in.Type, in.Data)}}, Type: corev1.SecretTypeOpaque}
	out, _ := slimSecret(forged)
	if got := observedHash(out.(*corev1.Secret)); got != contentHash(forged.Type, nil) {
		t.Fatalf("a forged mark was trusted: hash %q", got)
	}
}
