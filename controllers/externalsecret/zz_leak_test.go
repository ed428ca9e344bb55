package externalsecret

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/common/expfmt"
	eventsv1 "k8s.io/api/events/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestZZ_NoSecretValueLeaked runs last (files run in name order): it scans the
// operator's logs, every event, every status and the metrics for any value the
// suite wrote to Vault, raw or base64.
func TestZZ_NoSecretValueLeaked(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	var texts [][]byte
	texts = append(texts, leak.Logs())

	events := &eventsv1.EventList{}
	g.Expect(k8s.List(ctx, events)).To(Succeed())
	ess := &v1alpha1.ExternalSecretList{}
	g.Expect(k8s.List(ctx, ess)).To(Succeed())
	stores := &v1alpha1.SecretStoreList{}
	g.Expect(k8s.List(ctx, stores)).To(Succeed())
	cstores := &v1alpha1.ClusterSecretStoreList{}
	g.Expect(k8s.List(ctx, cstores)).To(Succeed())
	for _, obj := range []any{events.Items, statuses(ess), storeStatuses(stores, cstores)} {
		b, err := json.Marshal(obj)
		g.Expect(err).NotTo(HaveOccurred())
		texts = append(texts, b)
	}
	families, err := registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var m bytes.Buffer
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		_, _ = expfmt.MetricFamilyToText(&m, f)
	}
	for _, want := range []string{"baosync_sync_calls_total", "baosync_sync_duration_seconds", "baosync_provider_requests_total", "baosync_store_ready"} {
		g.Expect(names).To(HaveKey(want), "metric %s was never recorded", want)
	}
	texts = append(texts, m.Bytes())

	if len(ess.Items) < 20 {
		t.Skipf("only %d ExternalSecrets exist: run the whole suite for a meaningful scan", len(ess.Items))
	}
	g.Expect(len(events.Items)).To(BeNumerically(">", 10), "the suite should have produced events to scan")
	g.Expect(len(leak.Logs())).To(BeNumerically(">", 1000), "the suite should have produced logs to scan")
	for i, text := range texts {
		g.Expect(leak.Find(text)).To(BeEmpty(), "secret values found in scanned text #%d", i)
	}
}

func statuses(l *v1alpha1.ExternalSecretList) []v1alpha1.ExternalSecretStatus {
	var out []v1alpha1.ExternalSecretStatus
	for _, es := range l.Items {
		out = append(out, es.Status)
	}
	return out
}

func storeStatuses(l *v1alpha1.SecretStoreList, c *v1alpha1.ClusterSecretStoreList) []v1alpha1.SecretStoreStatus {
	var out []v1alpha1.SecretStoreStatus
	for _, s := range l.Items {
		out = append(out, s.Status)
	}
	for _, s := range c.Items {
		out = append(out, s.Status)
	}
	return out
}
