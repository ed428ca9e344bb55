package externalsecret

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestTargetWatch_TheTargetsDeletionWakesItsObjectOnceAndEnds(t *testing.T) {
	target := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "app"}}
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metadatafake.NewSimpleMetadataClient(scheme, target)
	w := newTargetWatch(context.Background(), meta)
	es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "es"},
		Spec: v1alpha1.ExternalSecretSpec{Target: v1alpha1.ExternalSecretTarget{Name: "app"}}}
	w.watch(es, "")
	w.watch(es, "") // once per object
	if got := w.count(); got != 1 {
		t.Fatalf("%d watches, want 1", got)
	}
	secrets := meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace("team-a")
	deadline := time.After(10 * time.Second)
	for { // the watch starts in its own goroutine: delete (and put back) until it sees one
		_ = secrets.Delete(context.Background(), "app", metav1.DeleteOptions{})
		select {
		case ev := <-w.events:
			if ev.Object.Namespace != "team-a" || ev.Object.Name != "es" {
				t.Fatalf("woke %s/%s", ev.Object.Namespace, ev.Object.Name)
			}
			waitFor(t, func() bool { return w.count() == 0 }, "the watch ends after waking its object")
			return
		case <-deadline:
			t.Fatal("no event after the target's deletion")
		case <-time.After(50 * time.Millisecond):
			_ = meta.Tracker().Add(target.DeepCopy())
		}
	}
}

func TestTargetWatch_IsBoundedAndStops(t *testing.T) {
	meta := metadatafake.NewSimpleMetadataClient(runtime.NewScheme())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newTargetWatch(ctx, meta)
	for i := range maxTargetWatches + 5 {
		w.watch(&v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("es-%d", i)}}, "")
	}
	if got := w.count(); got != maxTargetWatches {
		t.Fatalf("%d watches, want the bound %d", got, maxTargetWatches)
	}
	w.stop(types.NamespacedName{Namespace: "ns", Name: "es-0"})
	if got := w.count(); got != maxTargetWatches-1 {
		t.Fatalf("%d watches after a stop", got)
	}
	cancel()
	waitFor(t, func() bool { return w.count() == 0 }, "every watch ends with the manager")
	var nilWatch *targetWatch
	nilWatch.watch(&v1alpha1.ExternalSecret{}, "") // unit-test reconcilers have none
	nilWatch.stop(types.NamespacedName{})
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
