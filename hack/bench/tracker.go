package main

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// tracker follows ExternalSecrets and managed Secrets through watches: when
// each turned Ready, which are Ready now, and how many writes the API server
// saw (Secret creates/updates, ExternalSecret status updates).
type tracker struct {
	mu           sync.Mutex
	created      map[string]time.Time
	firstReady   map[string]time.Time
	ready        map[string]bool
	secretWrites int64
	statusWrites int64
	// passwords is each managed Secret's "password" and when it was seen first.
	passwords map[string]seenValue
}

// seenValue is a value and when the watch first saw it.
type seenValue struct {
	value string
	at    time.Time
}

func newTracker() *tracker {
	return &tracker{created: map[string]time.Time{}, firstReady: map[string]time.Time{}, ready: map[string]bool{}, passwords: map[string]seenValue{}}
}

// password is the "password" of the managed Secret key and when it appeared.
func (t *tracker) password(key string) seenValue {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.passwords[key]
}

func (t *tracker) markCreated(key string, at time.Time) {
	t.mu.Lock()
	t.created[key] = at
	t.mu.Unlock()
}

// watchExternalSecrets follows every ExternalSecret until ctx ends.
func (t *tracker) watchExternalSecrets(ctx context.Context, wc client.WithWatch) {
	watchLoop(ctx, wc, &v1alpha1.ExternalSecretList{}, nil, func(ev watch.Event) {
		es, ok := ev.Object.(*v1alpha1.ExternalSecret)
		if !ok {
			return
		}
		key := es.Namespace + "/" + es.Name
		isReady := meta.IsStatusConditionTrue(es.Status.Conditions, v1alpha1.ConditionReady)
		now := time.Now()
		t.mu.Lock()
		defer t.mu.Unlock()
		if ev.Type == watch.Modified {
			t.statusWrites++
		}
		t.ready[key] = isReady
		if _, seen := t.firstReady[key]; isReady && !seen {
			t.firstReady[key] = now
		}
	})
}

// watchManagedSecrets counts writes of the Secrets baosync manages.
func (t *tracker) watchManagedSecrets(ctx context.Context, wc client.WithWatch) {
	watchLoop(ctx, wc, &corev1.SecretList{}, client.MatchingLabels{"baosync.io/managed": "true"}, func(ev watch.Event) {
		if ev.Type == watch.Added || ev.Type == watch.Modified {
			now := time.Now()
			t.mu.Lock()
			t.secretWrites++
			if s, ok := ev.Object.(*corev1.Secret); ok {
				key, pw := s.Namespace+"/"+s.Name, string(s.Data["password"])
				if t.passwords[key].value != pw {
					t.passwords[key] = seenValue{value: pw, at: now}
				}
			}
			t.mu.Unlock()
		}
	})
}

// watchLoop watches list (re-watching when the server closes the stream).
func watchLoop(ctx context.Context, wc client.WithWatch, list client.ObjectList, sel client.ListOption, fn func(watch.Event)) {
	for ctx.Err() == nil {
		opts := []client.ListOption{}
		if sel != nil {
			opts = append(opts, sel)
		}
		w, err := wc.Watch(ctx, list, opts...)
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			fn(ev)
		}
		w.Stop()
	}
}

// snapshot is the tracker's counters at one moment.
type snapshot struct {
	readyNow, everReady int
	secretWrites        int64
	statusWrites        int64
}

func (t *tracker) snapshot() snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := snapshot{everReady: len(t.firstReady), secretWrites: t.secretWrites, statusWrites: t.statusWrites}
	for _, r := range t.ready {
		if r {
			s.readyNow++
		}
	}
	return s
}

// latencies returns create→first-Ready latencies in seconds, sorted, and the
// time the last object turned Ready.
func (t *tracker) latencies() ([]float64, time.Time, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []float64
	var first, last time.Time
	for k, r := range t.firstReady {
		if c, ok := t.created[k]; ok {
			out = append(out, r.Sub(c).Seconds())
		}
		if last.IsZero() || r.After(last) {
			last = r
		}
		if first.IsZero() || r.Before(first) {
			first = r
		}
	}
	sort.Float64s(out)
	return out, first, last
}

// phase returns the create→first-Ready latencies, sorted, of the objects
// whose name starts with prefix, and how many of them were created.
func (t *tracker) phase(prefix string) ([]float64, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []float64
	created := 0
	for k, c := range t.created {
		if _, name, _ := strings.Cut(k, "/"); !strings.HasPrefix(name, prefix) {
			continue
		}
		created++
		if r, ok := t.firstReady[k]; ok {
			out = append(out, r.Sub(c).Seconds())
		}
	}
	sort.Float64s(out)
	return out, created
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}
