package externalsecret

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/operatorkey"
	"github.com/baosync/baosync/test/testenv"
)

// unitNow is the fake clock's time in the unit tables.
var unitNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// unitReconciler returns a Reconciler over an in-memory API (holding objs),
// a fake clock at unitNow and an event recorder the test can read: for unit
// tables of the steps that touch the cluster, without servers.
func unitReconciler(t *testing.T, objs ...client.Object) (*Reconciler, *events.FakeRecorder) {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(objs...).Build()
	rec := events.NewFakeRecorder(100)
	return &Reconciler{Client: c, APIReader: c, Recorder: rec, Metrics: metrics.New(prometheus.NewRegistry()),
		Clock: clocktesting.NewFakeClock(unitNow), LeaseKey: testLeaseKey}, rec
}

// testLeaseKey seals the lease records of every reconciler the tests build,
// so that one made after a "restart" trusts what the first one wrote.
var testLeaseKey = operatorkey.Static([]byte("baosync test lease key, 32 bytes"))

// unitES returns an ExternalSecret "app" in namespace "ns" with a UID, on
// SecretStore "vault", with the given creation and deletion policies.
func unitES(creation v1alpha1.CreationPolicy, deletion v1alpha1.DeletionPolicy) *v1alpha1.ExternalSecret {
	es := newES("ns", "app", "vault", withData("k", "path", "k"))
	es.UID, es.Generation = types.UID("uid-now"), 1
	es.Spec.Target.CreationPolicy, es.Spec.Target.DeletionPolicy = creation, deletion
	return es
}

// secretOpt changes a Secret built by unitSecret.
type secretOpt func(*corev1.Secret)

// unitSecret returns Secret ns/app with string data.
func unitSecret(data map[string]string, opts ...secretOpt) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// controlledBy makes the Secret controlled by an ExternalSecret of that name and UID.
func controlledBy(name string, uid types.UID) secretOpt {
	return func(s *corev1.Secret) {
		yes := true
		s.OwnerReferences = append(s.OwnerReferences, metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(),
			Kind: "ExternalSecret", Name: name, UID: uid, Controller: &yes, BlockOwnerDeletion: &yes})
	}
}

// writtenFor marks the Secret as one baosync wrote for the named ExternalSecret.
func writtenFor(name string, keys string) secretOpt {
	return func(s *corev1.Secret) {
		s.Labels = map[string]string{v1alpha1.LabelManaged: "true"}
		s.Annotations = map[string]string{v1alpha1.AnnotationExternalSecret: name, v1alpha1.AnnotationManagedKeys: keys}
	}
}

// withType sets the Secret's type.
func withType(t corev1.SecretType) secretOpt { return func(s *corev1.Secret) { s.Type = t } }

// immutable makes the Secret immutable.
func immutable(s *corev1.Secret) { yes := true; s.Immutable = &yes }

// stringData returns a Secret's data as strings.
func stringData(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}
