package generatorstate

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/operatorkey"
	"github.com/baosync/baosync/internal/outcome"
)

var (
	esKind  = v1alpha1.GroupVersion.WithKind("ExternalSecret")
	testKey = operatorkey.Static([]byte("0123456789abcdef0123456789abcdef"))
)

func newClient(t *testing.T, objs ...client.Object) client.Client {
	s := runtime.NewScheme()
	NewWithT(t).Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	NewWithT(t).Expect(v1alpha1.AddToScheme(s)).To(Succeed())
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func owner() *v1alpha1.ExternalSecret {
	return &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", UID: "uid-1"}}
}

func TestState_KeepsValuesAndLeasesAcrossLoads(t *testing.T) {
	g := NewWithT(t)
	ctx, c, es := context.Background(), newClient(t), owner()
	st, err := Load(ctx, c, es, esKind, testKey)
	g.Expect(err).NotTo(HaveOccurred())
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st.Set(Key(0), Entry{Values: map[string][]byte{"password": []byte("s3cr3t")}, Hash: "h", GeneratedAt: at,
		Lease: &generator.Lease{ID: "database/creds/app/x", Duration: time.Hour, Renewable: true, IssueTime: at}})
	g.Expect(st.Save(ctx, c)).To(Succeed())

	sec := &corev1.Secret{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: Name("ExternalSecret", es)}, sec)).To(Succeed())
	g.Expect(sec.Labels).To(HaveKeyWithValue(Label, "ExternalSecret"))
	g.Expect(sec.OwnerReferences).To(ConsistOf(HaveField("UID", es.UID)))

	again, err := Load(ctx, c, es, esKind, testKey)
	g.Expect(err).NotTo(HaveOccurred())
	e, ok := again.Get(Key(0))
	g.Expect(ok).To(BeTrue())
	g.Expect(e.Values).To(HaveKeyWithValue("password", []byte("s3cr3t")))
	g.Expect(e.Lease.ID).To(Equal("database/creds/app/x"))
	g.Expect(e.GeneratedAt.Equal(at)).To(BeTrue())

	rv := sec.ResourceVersion
	g.Expect(again.Save(ctx, c)).To(Succeed(), "an unchanged state writes nothing")
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(sec), sec)).To(Succeed())
	g.Expect(sec.ResourceVersion).To(Equal(rv))

	gone := again.Prune(func(string) bool { return false })
	g.Expect(gone).To(HaveKey(Key(0)))
	g.Expect(again.Keys()).To(BeEmpty())
}

func TestLoad_RefusesASecretTheOwnerDoesNotOwn(t *testing.T) {
	g := NewWithT(t)
	es := owner()
	squatter := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: Name("ExternalSecret", es)}}
	_, err := Load(context.Background(), newClient(t, squatter), es, esKind, testKey)
	g.Expect(outcome.As(err, "").Reason).To(Equal(v1alpha1.ReasonTargetConflict))
}

func TestName_DiffersPerOwnerAndKind(t *testing.T) {
	g := NewWithT(t)
	a, b := owner(), owner()
	b.UID = "uid-2"
	g.Expect(Name("ExternalSecret", a)).NotTo(Equal(Name("ExternalSecret", b)))
	g.Expect(Name("ExternalSecret", a)).NotTo(Equal(Name("PushSecret", a)))
	g.Expect(len(Name("ExternalSecret", a))).To(BeNumerically("<=", 253))
}

func TestLoad_ALeaseRecordNotSealedForThisOwnerAndEntryIsRejected(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sealedEntry := func(t *testing.T, es *v1alpha1.ExternalSecret) []byte {
		c := newClient(t)
		st, err := Load(context.Background(), c, es, esKind, testKey)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		st.Set(Key(0), Entry{Values: map[string][]byte{"username": []byte("u")}, Hash: "h", GeneratedAt: at,
			Lease: &generator.Lease{ID: "database/creds/app/mine", IssueTime: at, Ref: v1alpha1.GeneratorRef{Kind: "VaultDynamicSecret", Name: "db"}}})
		NewWithT(t).Expect(st.Save(context.Background(), c)).To(Succeed())
		sec := &corev1.Secret{}
		NewWithT(t).Expect(c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: Name("ExternalSecret", es)}, sec)).To(Succeed())
		return sec.Data[Key(0)]
	}
	other := owner()
	other.UID = "uid-team-b"
	tests := []struct {
		name   string
		data   func(t *testing.T) map[string][]byte
		sealer Sealer
		ok     bool
	}{
		{"the record the operator sealed", func(t *testing.T) map[string][]byte {
			return map[string][]byte{Key(0): sealedEntry(t, owner())}
		}, testKey, true},
		{"a lease ID edited in place", func(t *testing.T) map[string][]byte {
			raw := strings.Replace(string(sealedEntry(t, owner())), "/mine", "/team-b", 1)
			return map[string][]byte{Key(0): []byte(raw)}
		}, testKey, false},
		{"a generator named in place", func(t *testing.T) map[string][]byte {
			raw := strings.Replace(string(sealedEntry(t, owner())), `"name":"db"`, `"name":"team-b-db"`, 1)
			return map[string][]byte{Key(0): []byte(raw)}
		}, testKey, false},
		{"a sealed record moved to another entry", func(t *testing.T) map[string][]byte {
			return map[string][]byte{Key(1): sealedEntry(t, owner())}
		}, testKey, false},
		{"a sealed record copied from another object", func(t *testing.T) map[string][]byte {
			return map[string][]byte{Key(0): sealedEntry(t, other)}
		}, testKey, false},
		{"a record without a seal", func(t *testing.T) map[string][]byte {
			return map[string][]byte{Key(0): []byte(`{"values":{},"hash":"h","lease":{"id":"database/creds/app/x"},"retired":[{"lease":{"id":"database/creds/app/y"}}]}`)}
		}, testKey, false},
		{"any record, without the operator's key", func(t *testing.T) map[string][]byte {
			return map[string][]byte{Key(0): sealedEntry(t, owner())}
		}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			es := owner()
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: Name("ExternalSecret", es),
				OwnerReferences: []metav1.OwnerReference{{UID: es.UID, Name: es.Name, Kind: "ExternalSecret", APIVersion: "baosync.io/v1alpha1"}}},
				Data: tt.data(t)}
			st, err := Load(context.Background(), newClient(t, sec), es, esKind, tt.sealer)
			g.Expect(err).NotTo(HaveOccurred())
			for _, k := range st.Keys() {
				e, _ := st.Get(k)
				if tt.ok {
					g.Expect(e.Lease).NotTo(BeNil())
					g.Expect(st.Rejected()).To(BeEmpty())
					continue
				}
				g.Expect(e.Lease).To(BeNil(), "a rejected record names no lease to renew or revoke")
				g.Expect(e.Retired).To(BeEmpty())
				g.Expect(st.Rejected()).To(ContainElement(k))
			}
		})
	}
}
