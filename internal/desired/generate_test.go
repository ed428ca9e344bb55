package desired

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

// generateOnce builds es's Secret, records its generated status as the
// reconciler does, and returns the password.
func generateOnce(t *testing.T, b *Builder, es *v1alpha1.ExternalSecret) string {
	t.Helper()
	g := NewWithT(t)
	built, err := b.Build(context.Background(), es, nil, 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(built.GeneratedKept).To(BeTrue())
	es.Status.Generated = built.Generated
	return string(built.Secret.Data["password"])
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
			es := newES("ns", "app", "", withGenerator("Password", "pw"))
			es.Spec.RefreshPolicy, es.Spec.RefreshInterval = tc.policy, &metav1.Duration{Duration: tc.interval}
			pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
			b := unitBuilder(t, nil, pw)
			first := generateOnce(t, b, es)
			g.Expect(es.Status.Generated).To(HaveLen(1))
			b.Clock.(*clocktesting.FakeClock).Step(tc.after)
			second := generateOnce(t, b, es)
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
	es := newES("ns", "app", "", withGenerator("Password", "pw"))
	pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
	b := unitBuilder(t, nil, pw)
	generateOnce(t, b, es)
	es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{}
	built, err := b.Build(context.Background(), es, nil, 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(built.GeneratedKept).To(BeTrue(), "the state of the removed entry was released and saved")
	g.Expect(built.Generated).To(BeEmpty())
}

func TestBuild_WithoutAKeeperPreviewsAndKeepsNothing(t *testing.T) {
	g := NewWithT(t)
	es := newES("ns", "app", "", withGenerator("Password", "pw"))
	withGenerator("VaultDynamicSecret", "db")(es)
	pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
	db := &v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"},
		Spec: v1alpha1.VaultDynamicSecretSpec{Path: "database/creds/app", Provider: &v1alpha1.VaultProvider{}}}
	b := unitBuilder(t, nil, pw, db)
	b.Keeper = nil // as baosync render builds it

	_, err := b.Build(context.Background(), es, nil, 0)
	g.Expect(err).To(MatchError(ContainSubstring("does not issue dynamic secrets")))

	es.Spec.DataFrom = es.Spec.DataFrom[:1]
	built, err := b.Build(context.Background(), es, nil, 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(built.Secret.Data["password"]).To(HaveLen(24))
	g.Expect(built.GeneratedKept).To(BeFalse(), "a preview keeps no state, so status is left alone")
	list := &corev1.SecretList{}
	g.Expect(b.Live.List(context.Background(), list)).To(Succeed())
	g.Expect(list.Items).To(BeEmpty(), "a preview keeps nothing")
}

func TestGeneration_FollowsTheCurrentPolicy(t *testing.T) {
	g := NewWithT(t)
	es := newES("ns", "app", "", withGenerator("Password", "pw"))
	es.Spec.RefreshPolicy, es.Spec.RefreshInterval = v1alpha1.RefreshPolicyPeriodic, &metav1.Duration{Duration: time.Hour}
	pw := &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: "ns"}, Spec: v1alpha1.PasswordSpec{Length: 24}}
	b := unitBuilder(t, nil, pw)
	first := generateOnce(t, b, es)

	es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyOnChange
	b.Clock.(*clocktesting.FakeClock).Step(2 * time.Hour)
	g.Expect(generateOnce(t, b, es)).To(Equal(first), "OnChange now: the old hourly rotation no longer applies")
	g.Expect(es.Status.Generated[0].RotationTime).To(BeNil())

	es.Spec.RefreshPolicy, es.Spec.RefreshInterval = v1alpha1.RefreshPolicyPeriodic, &metav1.Duration{Duration: time.Minute}
	g.Expect(generateOnce(t, b, es)).NotTo(Equal(first), "a shorter interval that already passed renews at once")
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
