package externalsecret

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestRolloutRestart_RestartsWorkloadsWhenTheDataChanges(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns, path, es := syncedApp(t, "v1-value", func(es *v1alpha1.ExternalSecret) {
		es.Spec.Target.RolloutRestartTargets = []v1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}, {Kind: "StatefulSet", Name: "missing"},
			{Kind: KindArgoRollout, Name: "canary"}}
	})
	// The permission is opt-in (config/components/rollout-restart); grant it here only.
	g.Expect(env.GrantRolloutRestart(ctx, ns)).To(Succeed())
	deploy := createDeployment(t, ns, "web")
	rollout := createRollout(t, ns, "canary")
	restartedAt := func() string { return restartedAtOf(t, deploy) }
	g.Expect(restartedAt()).To(BeEmpty())

	putKV(t, path, map[string]any{"k": leak.Secret("v2-value")})
	forceSync(t, es, "rotate")
	g.Eventually(restartedAt, eventually, poll).ShouldNot(BeEmpty())
	g.Eventually(func() string {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rollout), rollout)).To(Succeed())
		at, _, _ := unstructured.NestedString(rollout.Object, "spec", "restartAt")
		return at
	}, eventually, poll).Should(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`), "an Argo Rollout restarts through spec.restartAt (RFC 3339, UTC)")
	g.Eventually(func() []string { return eventReasons(t, ns, "app") }, eventually, poll).
		Should(ContainElements("RolloutRestarted", v1alpha1.ReasonRolloutRestartFailed))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
}

// TestRolloutRestart_WithoutThePermissionSaysHowToGrantIt runs with exactly the
// generated role, which cannot patch workloads: the sync still succeeds and the
// event names the missing permission and how an admin grants it.
func TestRolloutRestart_WithoutThePermissionSaysHowToGrantIt(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns, path, es := syncedApp(t, "v1-value", func(es *v1alpha1.ExternalSecret) {
		es.Spec.Target.RolloutRestartTargets = []v1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}}
	})
	deploy := createDeployment(t, ns, "web")

	putKV(t, path, map[string]any{"k": leak.Secret("v2-value")})
	forceSync(t, es, "rotate")
	g.Eventually(func() []string { return eventNotes(t, ns, "app", v1alpha1.ReasonRolloutRestartFailed) }, eventually, poll).
		Should(ContainElement(And(ContainSubstring("no permission to patch Deployments"),
			ContainSubstring("rolloutRestart.enabled=true"), ContainSubstring("config/components/rollout-restart"))))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(getSecret(t, ns, "app").Data).To(HaveKeyWithValue("k", []byte("v2-value")))
	g.Expect(restartedAtOf(t, deploy)).To(BeEmpty())
}

// createRollout installs a minimal Argo Rollouts CRD (once) and creates a
// Rollout to restart.
func createRollout(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	crd := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal([]byte(rolloutCRD), &crd.Object)).To(Succeed())
	if err := k8s.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	rollout := &unstructured.Unstructured{}
	rollout.SetAPIVersion("argoproj.io/v1alpha1")
	rollout.SetKind("Rollout")
	rollout.SetNamespace(ns)
	rollout.SetName(name)
	g.Expect(unstructured.SetNestedField(rollout.Object, int64(1), "spec", "replicas")).To(Succeed())
	g.Eventually(func() error { return k8s.Create(ctx, rollout.DeepCopy()) }, eventually, poll).Should(Succeed(), "the CRD is established")
	return rollout
}

// rolloutCRD is the least of Argo Rollouts' CRD a Rollout needs here.
const rolloutCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: rollouts.argoproj.io}
spec:
  group: argoproj.io
  scope: Namespaced
  names: {plural: rollouts, singular: rollout, kind: Rollout, listKind: RolloutList}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// createDeployment creates a minimal Deployment to restart.
func createDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "example.invalid/" + name}}}}}}
	NewWithT(t).Expect(k8s.Create(context.Background(), deploy)).To(Succeed())
	return deploy
}

// restartedAtOf reads the restart annotation of a Deployment's pod template.
func restartedAtOf(t *testing.T, deploy *appsv1.Deployment) string {
	t.Helper()
	d := &appsv1.Deployment{}
	NewWithT(t).Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(deploy), d)).To(Succeed())
	return d.Spec.Template.Annotations[v1alpha1.AnnotationRestartedAt]
}

// eventNotes lists the notes of the events with reason about an ExternalSecret.
func eventNotes(t *testing.T, ns, name, reason string) []string {
	list := &eventsv1.EventList{}
	NewWithT(t).Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && strings.EqualFold(e.Regarding.Kind, "ExternalSecret") && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}
