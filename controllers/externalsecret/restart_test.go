package externalsecret

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestRolloutRestart_RestartsWorkloadsWhenTheDataChanges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns, path, es := syncedApp(t, "v1-value", func(es *v1alpha1.ExternalSecret) {
		es.Spec.Target.RolloutRestartTargets = []v1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}, {Kind: "StatefulSet", Name: "missing"}}
	})
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web"}}}}}}
	g.Expect(k8s.Create(ctx, deploy)).To(Succeed())
	restartedAt := func() string {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(deploy), d)).To(Succeed())
		return d.Spec.Template.Annotations[AnnotationRestartedAt]
	}
	g.Expect(restartedAt()).To(BeEmpty())

	putKV(t, path, map[string]any{"k": leak.Secret("v2-value")})
	forceSync(t, es, "rotate")
	g.Eventually(restartedAt, eventually, poll).ShouldNot(BeEmpty())
	g.Eventually(func() []string { return eventReasons(t, ns, "app") }, eventually, poll).
		Should(ContainElements("RolloutRestarted", v1alpha1.ReasonRolloutRestartFailed))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
}
