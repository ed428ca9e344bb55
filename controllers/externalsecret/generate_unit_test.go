package externalsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/baosync/baosync/api/v1alpha1"
)

// generateOnce runs the generator side of one fetch and returns the password.
func generateOnce(t *testing.T, r *Reconciler, es *v1alpha1.ExternalSecret) string {
	t.Helper()
	g := NewWithT(t)
	gen := &generatorRun{r: r, es: es}
	m, err := gen.values(context.Background(), 0, es.Spec.DataFrom[0])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(gen.finish(context.Background())).To(Succeed())
	return string(m["password"])
}

func TestGeneration_KeepsValuesUntilThePolicySaysOtherwise(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policy   v1alpha1.RefreshPolicy
		interval time.Duration
		after    time.Duration
		wantNew  bool
	}{
		{name: "keeps the password within the Periodic interval", policy: v1alpha1.RefreshPolicyPeriodic, interval: time.Hour, after: 59 * time.Minute},
		{name: "generates a new password once the Periodic interval passed", policy: v1alpha1.RefreshPolicyPeriodic, interval: time.Hour, after: time.Hour, wantNew: true},
		{name: "keeps the password forever with refreshInterval 0", policy: v1alpha1.RefreshPolicyPeriodic, after: 1000 * time.Hour},
		{name: "keeps the password forever with OnChange", policy: v1alpha1.RefreshPolicyOnChange, interval: time.Hour, after: 1000 * time.Hour},
		{name: "keeps the password forever with CreatedOnce", policy: v1alpha1.RefreshPolicyCreatedOnce, interval: time.Hour, after: 1000 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
			es.Spec.Data = nil
			withGenerator("Password", "pw")(es)
			es.Spec.RefreshPolicy, es.Spec.RefreshInterval = tc.policy, &metav1.Duration{Duration: tc.interval}
			pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
			r, _ := unitReconciler(t, pw)
			first := generateOnce(t, r, es)
			g.Expect(es.Status.Generated).To(HaveLen(1))
			r.Clock.(*clocktesting.FakeClock).Step(tc.after)
			second := generateOnce(t, r, es)
			if tc.wantNew {
				g.Expect(second).NotTo(Equal(first))
			} else {
				g.Expect(second).To(Equal(first))
			}
		})
	}
}

func TestGeneration_ReleasesTheStateOfARemovedEntry(t *testing.T) {
	g := NewWithT(t)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	withGenerator("Password", "pw")(es)
	pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
	r, _ := unitReconciler(t, pw)
	generateOnce(t, r, es)
	es.Spec.DataFrom = nil
	gen := &generatorRun{r: r, es: es}
	g.Expect(gen.finish(context.Background())).To(Succeed())
	g.Expect(es.Status.Generated).To(BeEmpty())
}

func TestPreview_GeneratesWithoutKeepingAnything(t *testing.T) {
	g := NewWithT(t)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	es.Spec.Data = nil
	withGenerator("Password", "pw")(es)
	withGenerator("VaultDynamicSecret", "db")(es)
	pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
	db := &v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"},
		Spec: v1alpha1.VaultDynamicSecretSpec{Path: "database/creds/app", Provider: &v1alpha1.VaultProvider{}}}
	r, _ := unitReconciler(t, pw, db)
	r.Clock = nil // as baosync render builds it

	_, err := r.Preview(context.Background(), es, nil)
	g.Expect(err).To(MatchError(ContainSubstring("does not issue dynamic secrets")))

	es.Spec.DataFrom = es.Spec.DataFrom[:1]
	s, err := r.Preview(context.Background(), es, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Data["password"]).To(HaveLen(24))
	list := &corev1.SecretList{}
	g.Expect(r.List(context.Background(), list)).To(Succeed())
	g.Expect(list.Items).To(BeEmpty(), "a preview keeps nothing")
}

func TestGeneration_FollowsTheCurrentPolicy(t *testing.T) {
	g := NewWithT(t)
	es := unitES(v1alpha1.CreationPolicyOwner, v1alpha1.DeletionPolicyRetain)
	es.Spec.Data = nil
	withGenerator("Password", "pw")(es)
	es.Spec.RefreshPolicy, es.Spec.RefreshInterval = v1alpha1.RefreshPolicyPeriodic, &metav1.Duration{Duration: time.Hour}
	pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
	r, _ := unitReconciler(t, pw)
	first := generateOnce(t, r, es)

	es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyOnChange
	r.Clock.(*clocktesting.FakeClock).Step(2 * time.Hour)
	g.Expect(generateOnce(t, r, es)).To(Equal(first), "OnChange now: the old hourly rotation no longer applies")
	g.Expect(es.Status.Generated[0].RotationTime).To(BeNil())

	es.Spec.RefreshPolicy, es.Spec.RefreshInterval = v1alpha1.RefreshPolicyPeriodic, &metav1.Duration{Duration: time.Minute}
	g.Expect(generateOnce(t, r, es)).NotTo(Equal(first), "a shorter interval that already passed renews at once")
}

func TestRotationOf_StaticValuesLiveAtLeastTheDocumentedFloor(t *testing.T) {
	at := time.Unix(1000, 0)
	cases := []struct {
		name     string
		interval time.Duration
		policy   v1alpha1.RefreshPolicy
		want     time.Time
	}{
		{"a 1s interval regenerates once a minute", time.Second, "", at.Add(DefaultMinGeneratorRotation)},
		{"a long interval regenerates at the interval", 2 * time.Hour, v1alpha1.RefreshPolicyPeriodic, at.Add(2 * time.Hour)},
		{"OnChange never regenerates", time.Second, v1alpha1.RefreshPolicyOnChange, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := &v1alpha1.ExternalSecret{Spec: v1alpha1.ExternalSecretSpec{RefreshPolicy: tc.policy,
				RefreshInterval: &metav1.Duration{Duration: tc.interval}}}
			if got := rotationOf(es, at, DefaultMinGeneratorRotation); !got.Equal(tc.want) {
				t.Fatalf("rotation %v, want %v", got, tc.want)
			}
		})
	}
}
