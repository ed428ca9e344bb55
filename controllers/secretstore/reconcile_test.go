package secretstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/providers"
	"github.com/baosync/baosync/providers/fake"
)

// world is one store reconciler over a fake API server and provider.
type world struct {
	c        client.Client
	provider *fake.Provider
	events   *events.FakeRecorder
	metrics  *metrics.Metrics
	registry *prometheus.Registry
	r        reconcile.Reconciler
}

// storeReady returns the store_ready gauges by "kind/namespace/name".
func (w *world) storeReady(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := w.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasSuffix(f.GetName(), "store_ready") {
			continue
		}
		for _, m := range f.GetMetric() {
			var parts []string
			for _, l := range m.GetLabel() {
				parts = append(parts, l.GetValue())
			}
			out[strings.Join(parts, "/")] = m.GetGauge().GetValue()
		}
	}
	return out
}

func newWorld(t *testing.T, served scope.Served, objs ...client.Object) *world {
	t.Helper()
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		t.Fatal(err)
	}
	c := fakeclient.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.SecretStore{}, &v1alpha1.ClusterSecretStore{}).Build()
	reg := prometheus.NewRegistry()
	w := &world{c: c, provider: fake.New(), events: events.NewFakeRecorder(10), metrics: metrics.New(reg), registry: reg}
	deps := Deps{Client: c, APIReader: c, Provider: w.provider, Recorder: w.events, Metrics: w.metrics, Clock: clock.RealClock{}, Scope: served}
	w.r = outcome.Retrying("secretstore", "Store validation failed", NewSecretStoreReconciler(deps))
	return w
}

// reconcile runs one reconcile of the store ns/name and returns its result
// and the store as it is now.
func (w *world) reconcile(t *testing.T, ns, name string) (ctrl.Result, *v1alpha1.SecretStore) {
	t.Helper()
	key := client.ObjectKey{Namespace: ns, Name: name}
	res, err := w.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
	if err != nil {
		t.Fatalf("reconcile returned %v; failures are mapped, never returned", err)
	}
	got := &v1alpha1.SecretStore{}
	if err := w.c.Get(context.Background(), key, got); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return res, got
}

func newStore(ns, name, class string, refreshSeconds int) *v1alpha1.SecretStore {
	return &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1},
		Spec: v1alpha1.SecretStoreSpec{Controller: class, RefreshInterval: refreshSeconds}}
}

// readyOf renders the Ready condition as "Status Reason", "" when there is none.
func readyOf(s *v1alpha1.SecretStore) string {
	c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%s %s", c.Status, c.Reason)
}

func TestStoreReconciler_RecordsReadyAndRetriesAsTheFailureSays(t *testing.T) {
	cases := []struct {
		name      string
		refresh   int
		err       error // of the provider's NewClient
		wantReady string
		min, max  time.Duration // of the requeue
		wantEvent string        // prefix of the one event
		wantGauge float64
	}{
		{"a store that logs in is Ready and checked again after its interval", 60, nil,
			"True StoreValid", time.Minute, 66 * time.Second, "Normal StoreValid", 1},
		{"without an interval it is checked every five minutes", 0, nil,
			"True StoreValid", 5 * time.Minute, 330 * time.Second, "Normal StoreValid", 1},
		{"a refused login backs off from a second", 60, fmt.Errorf("login: %w", providers.ErrAuth),
			"False AuthFailed", outcome.BackoffBase, outcome.BackoffBase, "Warning AuthFailed", 0},
		{"an unreachable server backs off", 60, fmt.Errorf("dial: %w", providers.ErrUnavailable),
			"False ProviderUnavailable", outcome.BackoffBase, outcome.BackoffBase, "Warning ProviderUnavailable", 0},
		{"an unusable configuration waits for a change of the store", 60, fmt.Errorf("no CA: %w", providers.ErrInvalidConfig),
			"False InvalidStoreConfig", 0, 0, "Warning InvalidStoreConfig", 0},
		{"throttling waits as long as the share says, not the back-off", 60, &providers.ThrottledError{Store: "s", Namespace: "ns", After: 3 * time.Second},
			"False Throttled", 3 * time.Second, 3300 * time.Millisecond, "Warning Throttled", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, scope.Served{}, newStore("ns", "s", "", tc.refresh))
			w.provider.NewClientErr = tc.err
			res, got := w.reconcile(t, "ns", "s")
			if r := readyOf(got); r != tc.wantReady {
				t.Fatalf("Ready %q, want %q", r, tc.wantReady)
			}
			if got.Status.Capabilities != v1alpha1.SecretStoreReadWrite {
				t.Fatalf("capabilities %q, want ReadWrite whether or not the store logs in", got.Status.Capabilities)
			}
			if res.RequeueAfter < tc.min || res.RequeueAfter > tc.max {
				t.Fatalf("requeue after %v, want %v..%v", res.RequeueAfter, tc.min, tc.max)
			}
			select {
			case e := <-w.events.Events:
				if !strings.HasPrefix(e, tc.wantEvent) {
					t.Fatalf("event %q, want %q", e, tc.wantEvent)
				}
			default:
				t.Fatal("no event")
			}
			if g := w.storeReady(t); len(g) != 1 || g[firstKey(g)] != tc.wantGauge {
				t.Fatalf("store_ready %v, want one series at %v", g, tc.wantGauge)
			}
		})
	}
}

func TestStoreReconciler_LeavesStoresOutsideItsScopeAlone(t *testing.T) {
	cases := []struct {
		name   string
		served scope.Served
		store  *v1alpha1.SecretStore
	}{
		{"a store of another controller class", scope.Served{}, newStore("ns", "s", "other", 0)},
		{"a store that names no class, for an operator of a class", scope.Served{Class: "mine"}, newStore("ns", "s", "", 0)},
		{"a store of another namespace, for a namespace-scoped operator", scope.Served{Namespace: "mine"}, newStore("ns", "s", "", 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.served, tc.store)
			res, got := w.reconcile(t, "ns", "s")
			if res != (ctrl.Result{}) || readyOf(got) != "" || len(w.events.Events) != 0 {
				t.Fatalf("result %+v, Ready %q, %d events: want the store untouched", res, readyOf(got), len(w.events.Events))
			}
		})
	}
}

func TestStoreReconciler_WritesTheStatusOnlyWhenItChanges(t *testing.T) {
	w := newWorld(t, scope.Served{}, newStore("ns", "s", "", 60))
	_, first := w.reconcile(t, "ns", "s")
	_, second := w.reconcile(t, "ns", "s")
	if first.ResourceVersion != second.ResourceVersion {
		t.Fatalf("an unchanged check wrote the status (resourceVersion %s -> %s)", first.ResourceVersion, second.ResourceVersion)
	}
	if len(w.events.Events) != 1 {
		t.Fatalf("%d events, want one for the one transition", len(w.events.Events))
	}
}

func TestStoreReconciler_ADeletedStoreIsForgotten(t *testing.T) {
	w := newWorld(t, scope.Served{})
	w.metrics.StoreReady.WithLabelValues("SecretStore", "ns", "gone").Set(1)
	if res, _ := w.reconcile(t, "ns", "gone"); res != (ctrl.Result{}) {
		t.Fatalf("result %+v for a deleted store", res)
	}
	if g := w.storeReady(t); len(g) != 0 {
		t.Fatalf("the gauge of a deleted store stays: %v", g)
	}
}

func firstKey(m map[string]float64) string {
	for k := range m {
		return k
	}
	return ""
}
