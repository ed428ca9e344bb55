package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// ScanReport says how much the leak scan read, so that a suite can check
// that a clean result means something.
type ScanReport struct {
	// LogBytes is the size of the captured operator logs.
	LogBytes int
	// Events and Objects count the events and baosync objects whose text was read.
	Events, Objects int
	// Values is the number of secret values the suite remembered.
	Values int
	// Metrics names the metric families gathered.
	Metrics []string
}

// Scan reads everything the operator emitted (its logs, every event, the
// status of every baosync object and, when gatherer is set, the metrics) and
// returns an error naming each text that holds a remembered value, raw or
// base64. It is a suite's last step, run after every test (see Env.AfterTests).
func (l *LeakCheck) Scan(ctx context.Context, c client.Reader, gatherer prometheus.Gatherer) (ScanReport, error) {
	report := ScanReport{Values: l.count()}
	logs := l.Logs()
	report.LogBytes = len(logs)
	texts := map[string][]byte{"operator logs": logs}

	events := &eventsv1.EventList{}
	if err := c.List(ctx, events); err != nil {
		return report, fmt.Errorf("leak scan: list events: %w", err)
	}
	report.Events = len(events.Items)
	b, err := json.Marshal(events.Items)
	if err != nil {
		return report, fmt.Errorf("leak scan: encode events: %w", err)
	}
	texts["events"] = b

	for name, list := range statusLists() {
		b, n, err := statuses(ctx, c, list)
		if err != nil {
			return report, fmt.Errorf("leak scan: %s: %w", name, err)
		}
		report.Objects += n
		texts[name+" statuses"] = b
	}
	if gatherer != nil {
		b, names, err := metricsText(gatherer)
		if err != nil {
			return report, fmt.Errorf("leak scan: gather metrics: %w", err)
		}
		report.Metrics = names
		texts["metrics"] = b
	}
	return report, l.leaks(texts)
}

// statusLists are the baosync kinds whose status the scan reads.
func statusLists() map[string]client.ObjectList {
	return map[string]client.ObjectList{
		"ExternalSecret":        &v1alpha1.ExternalSecretList{},
		"ClusterExternalSecret": &v1alpha1.ClusterExternalSecretList{},
		"SecretStore":           &v1alpha1.SecretStoreList{},
		"ClusterSecretStore":    &v1alpha1.ClusterSecretStoreList{},
		"PushSecret":            &v1alpha1.PushSecretList{},
	}
}

// statuses lists every object of a kind and returns the JSON of their
// statuses and how many there are. Specs are left out: tests write what they
// like there; the operator writes only statuses.
func statuses(ctx context.Context, c client.Reader, list client.ObjectList) ([]byte, int, error) {
	if err := c.List(ctx, list); err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return nil, 0, fmt.Errorf("encode: %w", err)
	}
	var items struct {
		Items []struct {
			Status json.RawMessage `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, 0, fmt.Errorf("decode: %w", err)
	}
	var out bytes.Buffer
	for _, it := range items.Items {
		out.Write(it.Status)
		out.WriteByte('\n')
	}
	return out.Bytes(), len(items.Items), nil
}

// metricsText renders every gathered metric family as exposition text.
func metricsText(g prometheus.Gatherer) ([]byte, []string, error) {
	families, err := g.Gather()
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
		if _, err := expfmt.MetricFamilyToText(&out, f); err != nil {
			return nil, nil, fmt.Errorf("encode %s: %w", f.GetName(), err)
		}
	}
	return out.Bytes(), names, nil
}

// leaks returns an error naming each text that holds a remembered value. The
// values are test fixtures, so the message shows them: that is what the
// person reading a failure needs to find the leaking code path.
func (l *LeakCheck) leaks(texts map[string][]byte) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(texts)) {
		if found := l.Find(texts[name]); len(found) > 0 {
			slices.Sort(found)
			errs = append(errs, fmt.Errorf("%s hold secret value(s) %s", name, quoteAll(found)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("leak scan: secret values the suite registered (leak.Secret) appear in operator output: %w", errors.Join(errs...))
	}
	return nil
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
