package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestTenantRequests_NamespacesPastTheBoundShareOneLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	tr := NewTenantRequests(reg, 2)
	for _, ns := range []string{"a", "b", "c", "d", "a"} {
		tr.Observe("ClusterSecretStore//shared", ns, "read", "ok")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "namespace" {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	want := map[string]float64{"a": 2, "b": 1, OtherNamespaces: 2}
	if len(got) != len(want) {
		t.Fatalf("series by namespace %v; want %v", got, want)
	}
	for ns, n := range want {
		if got[ns] != n {
			t.Fatalf("series by namespace %v; want %v", got, want)
		}
	}
}
