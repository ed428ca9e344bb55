package render

import (
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
)

// input is what a file holds: ExternalSecrets, in order, and stores.
type input struct {
	externalSecrets []*v1alpha1.ExternalSecret
	stores          map[string]v1alpha1.GenericStore // by kind + "/" + name
}

// load reads every ExternalSecret and store of a YAML stream; other kinds
// are ignored.
func load(path string) (*input, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	in := &input{stores: map[string]v1alpha1.GenericStore{}}
	for i, doc := range splitDocuments(string(b)) {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		var obj any
		switch meta.Kind {
		case "ExternalSecret":
			es := &v1alpha1.ExternalSecret{}
			in.externalSecrets = append(in.externalSecrets, es)
			obj = es
		case string(v1alpha1.SecretStoreKindNamespaced):
			obj = &v1alpha1.SecretStore{}
		case string(v1alpha1.SecretStoreKindCluster):
			obj = &v1alpha1.ClusterSecretStore{}
		default:
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %w", path, i+1, meta.Kind, err)
		}
		if s, ok := obj.(v1alpha1.GenericStore); ok {
			in.stores[meta.Kind+"/"+s.GetName()] = s
		}
	}
	if len(in.externalSecrets) == 0 {
		return nil, fmt.Errorf("%s holds no ExternalSecret", path)
	}
	return in, nil
}

// splitDocuments cuts a YAML stream at lines that are a document marker
// ("---" alone or followed by white space), never inside "-----BEGIN".
func splitDocuments(s string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		t := strings.TrimRight(line, "\r\n")
		if t == "---" || strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "---\t") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.String())
}
