package esocompat

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/test/testenv"
)

const (
	eventually = 60 * time.Second
	poll       = 200 * time.Millisecond
)

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t-%08x", rand.Uint32())}}
	NewWithT(t).Expect(env.Client.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

// createSecret creates a Secret with string data.
func createSecret(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	NewWithT(t).Expect(env.Client.Create(context.Background(), s)).To(Succeed())
}

// secret waits until the Secret exists and returns it.
func secret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	NewWithT(t).Eventually(func() error {
		return env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)
	}, eventually, poll).Should(Succeed(), "Secret %s/%s", ns, name)
	return s
}

// esoManifests reads test/testdata/eso/vault.yaml for namespace ns: the
// Vault address, the namespace, and names that must not clash between two
// namespaces of one cluster and Vault (cluster-scoped objects, pushed keys).
func esoManifests(t *testing.T, ns string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.Root(), "test", "testdata", "eso", "vault.yaml"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	for _, r := range [][2]string{{"http://127.0.0.1:8200", env.Vault.Addr}, {"NAMESPACE", ns},
		{"name: eso-cluster-wide", "name: eso-cluster-wide-" + ns}, {"name: eso-singular-selector", "name: eso-singular-selector-" + ns},
		{"remoteKey: eso/", "remoteKey: eso/" + ns + "/"}} {
		src = bytes.ReplaceAll(src, []byte(r[0]), []byte(r[1]))
	}
	return src
}

// createAll creates every document of a YAML stream in namespace ns (cluster-
// scoped kinds without one).
func createAll(t *testing.T, ns string, stream []byte) {
	t.Helper()
	g := NewWithT(t)
	for _, doc := range strings.Split(string(stream), "\n---") {
		u := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
		if len(u.Object) == 0 {
			continue // comments only
		}
		if !strings.HasPrefix(u.GetKind(), "Cluster") {
			u.SetNamespace(ns)
		}
		g.Expect(env.Client.Create(context.Background(), u)).To(Succeed(), "create %s %s", u.GetKind(), u.GetName())
	}
}

// esoObject reads one of ESO's objects.
func esoObject(t *testing.T, kindName, ns, name string) *unstructured.Unstructured {
	t.Helper()
	for _, k := range kinds {
		if k.gvk.Kind == kindName {
			u := k.newESO()
			NewWithT(t).Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u)).To(Succeed())
			return u
		}
	}
	t.Fatalf("no ESO kind %s", kindName)
	return nil
}

// esoReady waits until ESO's object has a Ready condition with status and
// reason, and returns the object.
func esoReady(t *testing.T, kindName, ns, name, status, reason string) *unstructured.Unstructured {
	t.Helper()
	var u *unstructured.Unstructured
	NewWithT(t).Eventually(func() []string {
		u = esoObject(t, kindName, ns, name)
		ready, why := readyIn(esoStatusMap(u))
		msg, _ := readyCondition(esoStatusMap(u))["message"].(string)
		return []string{ready, why, msg}
	}, eventually, poll).Should(HaveExactElements(status, reason, Not(BeNil())), "%s %s/%s", kindName, ns, name)
	return u
}

// remote reads a KV v2 secret's data, nil while it does not exist.
func remote(path string) func() any {
	return func() any {
		s, _ := env.VaultClient.Logical().ReadWithContext(context.Background(), path)
		if s == nil {
			return nil
		}
		return s.Data["data"]
	}
}
