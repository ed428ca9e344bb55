package externalsecret

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// decoded returns a copy of obj as the informer hands it over: decoded from
// the wire, every string its own.
func decoded[T any](t *testing.T, obj *T) *T {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// shared reports whether a and b share their bytes.
func shared(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// sameMap reports whether a and b are one map, not only equal ones.
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestSlimExternalSecret_SharesRepeatedStringsAndChangesNoValue(t *testing.T) {
	g := NewWithT(t)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	es.TypeMeta = metav1.TypeMeta{APIVersion: "baosync.io/v1alpha1", Kind: "ExternalSecret"}
	es.Labels = map[string]string{"app.kubernetes.io/part-of": "shop"}
	es.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	es.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonSecretSynced, Message: `Secret "app" is in sync with SecretStore "vault"`}}

	a, err := slimExternalSecret(decoded(t, es))
	g.Expect(err).NotTo(HaveOccurred())
	b, err := slimExternalSecret(decoded(t, es))
	g.Expect(err).NotTo(HaveOccurred())
	x, y := a.(*v1alpha1.ExternalSecret), b.(*v1alpha1.ExternalSecret)

	want := es.DeepCopy()
	want.ManagedFields = []metav1.ManagedFieldsEntry{} // the mark of a slimmed object
	g.Expect(x).To(Equal(want), "the transform changes no value")
	for what, pair := range map[string][2]string{
		"namespace":      {x.Namespace, y.Namespace},
		"apiVersion":     {x.APIVersion, y.APIVersion},
		"store":          {x.Spec.SecretStoreRef.Name, y.Spec.SecretStoreRef.Name},
		"remote key":     {x.Spec.Data[0].RemoteRef.Key, y.Spec.Data[0].RemoteRef.Key},
		"reason":         {x.Status.Conditions[0].Reason, y.Status.Conditions[0].Reason},
		"message":        {x.Status.Conditions[0].Message, y.Status.Conditions[0].Message},
		"label value":    {x.Labels["app.kubernetes.io/part-of"], y.Labels["app.kubernetes.io/part-of"]},
		"secretKey":      {x.Spec.Data[0].SecretKey, y.Spec.Data[0].SecretKey},
		"condition type": {x.Status.Conditions[0].Type, y.Status.Conditions[0].Type},
	} {
		g.Expect(shared(pair[0], pair[1])).To(BeTrue(), "%s is not shared between two cached objects", what)
	}
	g.Expect(sameMap(x.Labels, y.Labels)).To(BeTrue(), "two equal label maps are one map in the cache")
}

func TestSlimExternalSecret_DropsKubectlsLastAppliedManifestAndKeepsOtherAnnotations(t *testing.T) {
	g := NewWithT(t)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	es.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"baosync.io/v1alpha1","kind":"ExternalSecret"}`,
		v1alpha1.AnnotationForceSync: "1", "reloader.stakater.com/match": "true"}
	in := decoded(t, es)
	out, err := slimExternalSecret(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.(*v1alpha1.ExternalSecret).Annotations).To(Equal(map[string]string{
		v1alpha1.AnnotationForceSync: "1", "reloader.stakater.com/match": "true"}))
}

func TestSlimSecret_SharesTheStringsManagedSecretsRepeat(t *testing.T) {
	g := NewWithT(t)
	s := unitSecret(map[string]string{"k": "v"}, controlledBy("app", "uid-1"))
	s.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
	a, err := slimSecret(decoded(t, s))
	g.Expect(err).NotTo(HaveOccurred())
	b, err := slimSecret(decoded(t, s))
	g.Expect(err).NotTo(HaveOccurred())
	x, y := a.(*corev1.Secret), b.(*corev1.Secret)
	g.Expect(shared(x.Namespace, y.Namespace)).To(BeTrue())
	g.Expect(shared(string(x.Type), string(y.Type))).To(BeTrue())
	g.Expect(shared(x.OwnerReferences[0].Kind, y.OwnerReferences[0].Kind)).To(BeTrue())
	g.Expect(sameMap(x.Labels, y.Labels)).To(BeTrue(), "every managed Secret's label map is one map in the cache")
	g.Expect(sameMap(x.Annotations, y.Annotations)).To(BeFalse(), "annotations hold each Secret's own hashes")
	g.Expect(observedHash(x)).To(Equal(contentHash(s.Type, s.Data)), "the hash is of the data, as before")
}

func TestSlimExternalSecret_ASecondPassWritesNothingReadersSee(t *testing.T) {
	// The informer hands the transform the same object twice on a (re)list;
	// meanwhile readers deep-copy it. Run under -race: a write into the cached
	// object or into a map other objects share is a data race.
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	es.Labels = map[string]string{v1alpha1.LabelManaged: "true"}
	es.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	first, err := slimExternalSecret(decoded(t, es))
	if err != nil {
		t.Fatal(err)
	}
	cached := first.(*v1alpha1.ExternalSecret)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			_ = cached.DeepCopy()
		}
	}()
	for range 1000 {
		fillTables() // the tables start over, as in a large cluster
		again, err := slimExternalSecret(cached)
		if err != nil || again != any(cached) {
			t.Fatalf("a second pass must return the same object unchanged: %v", err)
		}
	}
	<-done
	if cached.Labels[v1alpha1.LabelManaged] != "true" {
		t.Fatalf("the labels changed: %v", cached.Labels)
	}
}

// fillTables fills the shared string and map tables past their bounds, so
// that they start over.
func fillTables() {
	for i := range 1100 {
		cacheMaps.Shared(map[string]string{"fill": strconv.Itoa(i)})
	}
}
