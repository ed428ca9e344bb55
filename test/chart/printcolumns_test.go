package chart

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// printColumnObjects are one object of each kind whose `kubectl get` columns
// follow ESO's: Last Sync on ExternalSecret and PushSecret, Capabilities on
// the stores.
const printColumnObjects = `
apiVersion: baosync.io/v1alpha1
kind: SecretStore
metadata: {name: cols}
spec:
  provider:
    vault:
      server: https://bao.example.com
      auth: {tokenSecretRef: {name: t, key: token}}
---
apiVersion: baosync.io/v1alpha1
kind: ExternalSecret
metadata: {name: cols}
spec:
  secretStoreRef: {name: cols}
  data: [{secretKey: k, remoteRef: {key: app, property: k}}]
---
apiVersion: baosync.io/v1alpha1
kind: PushSecret
metadata: {name: cols}
spec:
  secretStoreRefs: [{name: cols, kind: SecretStore}]
  selector: {secret: {name: s}}
  data: [{match: {secretKey: k, remoteRef: {remoteKey: app, property: k}}}]
`

// TestPrintColumns_KubectlGetShowsLastSyncAndCapabilities asks the real API
// server for the table kubectl prints, with statuses as the reconcilers write
// them.
func TestPrintColumns_KubectlGetShowsLastSyncAndCapabilities(t *testing.T) {
	g := NewWithT(t)
	ns := "printcolumns"
	out, err := kubectl(t, "", "create", "namespace", ns)
	g.Expect(err).NotTo(HaveOccurred(), out)
	t.Cleanup(func() { _, _ = kubectl(t, "", "delete", "namespace", ns, "--wait=false") })
	out, err = kubectl(t, printColumnObjects, "apply", "-n", ns, "-f", "-")
	g.Expect(err).NotTo(HaveOccurred(), out)

	synced := time.Now().Add(-3 * time.Minute).UTC().Format(time.RFC3339)
	statuses := map[string]string{
		"secretstore/cols":    `{"status":{"capabilities":"ReadWrite"}}`,
		"externalsecret/cols": `{"status":{"refreshTime":"` + synced + `"}}`,
		"pushsecret/cols":     `{"status":{"refreshTime":"` + synced + `"}}`,
	}
	for obj, patch := range statuses {
		out, err = kubectl(t, "", "patch", "-n", ns, obj, "--subresource=status", "--type=merge", "-p", patch)
		g.Expect(err).NotTo(HaveOccurred(), out)
	}

	cases := []struct{ resource, column, value string }{
		{"externalsecrets.baosync.io", "LAST SYNC", "3m"},
		{"pushsecrets.baosync.io", "LAST SYNC", "3m"},
		{"secretstores.baosync.io", "CAPABILITIES", "ReadWrite"},
	}
	for _, tc := range cases {
		out, err = kubectl(t, "", "get", "-n", ns, tc.resource, "cols")
		g.Expect(err).NotTo(HaveOccurred(), out)
		g.Expect(column(out, tc.column)).To(HavePrefix(tc.value), "%s\n%s", tc.resource, out)
	}
	out, err = kubectl(t, "", "get", "crd", "clustersecretstores.baosync.io",
		"-o", `jsonpath={.spec.versions[0].additionalPrinterColumns[?(@.name=="Capabilities")].jsonPath}`)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(Equal(".status.capabilities"))
}

// column returns the value under header in kubectl's table of one row: kubectl
// aligns every cell with its header, and an empty cell is blank.
func column(table, header string) string {
	lines := strings.Split(strings.TrimSpace(table), "\n")
	at := strings.Index(lines[0], header)
	if len(lines) != 2 || at < 0 || at >= len(lines[1]) {
		return ""
	}
	cell, _, _ := strings.Cut(lines[1][at:], " ")
	return cell
}
