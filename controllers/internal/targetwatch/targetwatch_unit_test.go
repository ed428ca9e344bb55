package targetwatch

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

func TestTargetWatch_ATargetCreatedSinceItWasSeenWakesAtOnce(t *testing.T) {
	meta, _ := fakeTarget(t)
	w := New(context.Background(), meta)
	w.Watch(targetES(), "") // seen missing; it exists now
	woken(t, w)
}

func TestTargetWatch_TheTargetsDeletionWakesItsObjectOnce(t *testing.T) {
	meta, target := fakeTarget(t)
	w := New(context.Background(), meta)
	w.Watch(targetES(), target.UID)
	w.Watch(targetES(), target.UID) // once per object
	if got := w.count(); got != 1 {
		t.Fatalf("%d watches, want 1", got)
	}
	secrets := meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace("team-a")
	deadline := time.After(10 * time.Second)
	for { // the watch starts in its own goroutine: delete (and put back) until it sees one
		_ = secrets.Delete(context.Background(), "app", metav1.DeleteOptions{})
		select {
		case ev := <-w.events:
			w.events <- ev
			woken(t, w)
			return
		case <-deadline:
			t.Fatal("no event after the target's deletion")
		case <-time.After(50 * time.Millisecond):
			_ = meta.Tracker().Add(target.DeepCopy())
		}
	}
}

func TestTargetWatch_IsBoundedPerNamespaceAndInAllAndStops(t *testing.T) {
	meta := metadatafake.NewSimpleMetadataClient(runtime.NewScheme())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := New(ctx, meta)
	for i := range maxTargetWatchesNamespace + 3 {
		w.Watch(&v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "greedy", Name: fmt.Sprintf("es-%d", i)}}, "") // missing, as in the fake: the watches wait
	}
	if got := w.count(); got != maxTargetWatchesNamespace {
		t.Fatalf("%d watches in one namespace, want its bound %d", got, maxTargetWatchesNamespace)
	}
	for i := range maxTargetWatches {
		w.Watch(&v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%d", i), Name: "es"}}, "") // missing, as in the fake: the watches wait
	}
	if got := w.count(); got != maxTargetWatches {
		t.Fatalf("%d watches, want the bound %d", got, maxTargetWatches)
	}
	w.Stop(types.NamespacedName{Namespace: "greedy", Name: "es-0"})
	if got := w.count(); got != maxTargetWatches-1 {
		t.Fatalf("%d watches after a stop", got)
	}
	cancel()
	waitFor(t, func() bool { return w.count() == 0 }, "every watch ends with the manager")
	var nilWatch *Watcher
	nilWatch.Watch(&v1alpha1.ExternalSecret{}, "") // unit-test reconcilers have none
	nilWatch.Stop(types.NamespacedName{})
}

func TestTargetWatch_ANewTargetNameReplacesTheWatch(t *testing.T) {
	meta := metadatafake.NewSimpleMetadataClient(runtime.NewScheme())
	w := New(context.Background(), meta)
	es := targetES()
	w.Watch(es, "") // missing, as in the fake: the watch waits
	es.Spec.Target.Name = "other"
	w.Watch(es, "")
	w.mu.Lock()
	got := w.running[types.NamespacedName{Namespace: "team-a", Name: "es"}]
	w.mu.Unlock()
	if got == nil || got.target != "other" || w.count() != 1 {
		t.Fatalf("watching %+v (%d in all), want the new target alone", got, w.count())
	}
	w.Stop(types.NamespacedName{Namespace: "team-a", Name: "es"})
}

// TestTargetWatch_AFewNamespacesCannotTakeEveryWatch is issue 21's attack on
// the target watches: twenty namespaces each asking for all they may get
// leave watches for a hundred others.
func TestTargetWatch_AFewNamespacesCannotTakeEveryWatch(t *testing.T) {
	total, held := 0, map[string]int{}
	ask := func(ns string) {
		if admitWatch(total, held[ns]) {
			total++
			held[ns]++
		}
	}
	for n := range 20 {
		for range maxTargetWatchesNamespace {
			ask(fmt.Sprint("greedy-", n))
		}
	}
	greedy := total
	for n := range 100 {
		ask(fmt.Sprint("other-", n))
	}
	if greedy > maxTargetWatches/2+20*minTargetWatchesNamespace || total-greedy < 25 {
		t.Fatalf("twenty namespaces hold %d watches and leave %d to a hundred others", greedy, total-greedy)
	}
	if total > maxTargetWatches {
		t.Fatalf("%d watches, past the bound %d", total, maxTargetWatches)
	}
}

// fakeTarget is a metadata client holding the Secret team-a/app.
func fakeTarget(t *testing.T) (*metadatafake.FakeMetadataClient, *metav1.PartialObjectMetadata) {
	target := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "app", UID: "uid-1"}}
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return metadatafake.NewSimpleMetadataClient(scheme, target), target
}

func targetES() *v1alpha1.ExternalSecret {
	return &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "es"},
		Spec: v1alpha1.ExternalSecretSpec{Target: v1alpha1.ExternalSecretTarget{Name: "app"}}}
}

func woken(t *testing.T, w *Watcher) {
	t.Helper()
	select {
	case ev := <-w.events:
		if ev.Object.Namespace != "team-a" || ev.Object.Name != "es" {
			t.Fatalf("woke %s/%s", ev.Object.Namespace, ev.Object.Name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the object was not woken")
	}
	waitFor(t, func() bool { return w.count() == 0 }, "the watch ends when it wakes its object")
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
