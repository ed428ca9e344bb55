// Package convert is `baosync convert`: it converts External Secrets Operator manifests
// (external-secrets.io/v1 and v1beta1) to baosync.io/v1alpha1. Field names are
// shared, so a conversion changes apiVersion and drops what has no baosync
// meaning (other providers, fields baosync does not have); every dropped field
// is reported, per object, never dropped silently.
package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
)

// Warning is something the conversion could not carry over.
type Warning struct {
	// Object names the object, e.g. "ExternalSecret app/db".
	Object string
	// Message says what was dropped or skipped and why.
	Message string
}

func (w Warning) String() string { return w.Object + ": " + w.Message }

// kinds maps each ESO kind to a fresh baosync object it converts into.
var kinds = map[string]func() any{
	"SecretStore":        func() any { return &v1alpha1.SecretStore{} },
	"ClusterSecretStore": func() any { return &v1alpha1.ClusterSecretStore{} },
	"ExternalSecret":     func() any { return &v1alpha1.ExternalSecret{} },
	"ClusterExternalSecret": func() any {
		return &v1alpha1.ClusterExternalSecret{}
	},
	"PushSecret": func() any { return &v1alpha1.PushSecret{} },
}

// Convert reads YAML documents from r and writes the converted documents to
// w, separated by "---". Documents that are not ESO objects pass unchanged.
func Convert(r io.Reader, w io.Writer) ([]Warning, error) {
	in, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	var warnings []Warning
	first := true
	for i, doc := range splitDocuments(in) {
		out, ws, err := convertDocument(doc)
		if err != nil {
			return warnings, fmt.Errorf("document %d: %w", i+1, err)
		}
		warnings = append(warnings, ws...)
		if out == nil {
			continue
		}
		if !first {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return warnings, err
			}
		}
		first = false
		if _, err := w.Write(out); err != nil {
			return warnings, err
		}
	}
	return warnings, nil
}

// convertDocument converts one document; nil output means it was skipped.
func convertDocument(doc []byte) ([]byte, []Warning, error) {
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, nil, fmt.Errorf("not YAML: %w", err)
	}
	if obj == nil {
		return nil, nil, nil
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if !strings.HasPrefix(apiVersion, "external-secrets.io/") && !strings.Contains(apiVersion, ".external-secrets.io/") {
		return doc, nil, nil // not ESO (generators live in generators.external-secrets.io): pass through
	}
	name := objectName(kind, obj)
	newObj, ok := kinds[kind]
	if !ok {
		return nil, []Warning{{Object: name, Message: fmt.Sprintf("kind %s (%s) has no baosync equivalent; skipped", kind, apiVersion)}}, nil
	}
	if w := otherProvider(obj); w != "" {
		return nil, []Warning{{Object: name, Message: w + "; skipped"}}, nil
	}
	obj["apiVersion"] = v1alpha1.GroupVersion.String()
	delete(obj, "status")
	var warnings []Warning
	if engineV1(obj) {
		warnings = append(warnings, Warning{Object: name, Message: "template engineVersion v1 is not supported; set to v2 (Go templates with sprig): check the templates"})
	}
	typed := newObj()
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(raw, typed); err != nil {
		return nil, []Warning{{Object: name, Message: fmt.Sprintf("does not fit baosync's %s: %v; skipped", kind, err)}}, nil
	}
	back, err := json.Marshal(typed)
	if err != nil {
		return nil, nil, err
	}
	var kept map[string]any
	if err := json.Unmarshal(back, &kept); err != nil {
		return nil, nil, err
	}
	for _, path := range dropped(obj, kept, "") {
		warnings = append(warnings, Warning{Object: name, Message: fmt.Sprintf("field %s has no baosync meaning; dropped", path)})
	}
	cleanEmpty(kept)
	out, err := yaml.Marshal(kept)
	return out, warnings, err
}

// engineV1 switches a v1 template to v2 and reports whether it did.
func engineV1(obj map[string]any) bool {
	spec, _ := obj["spec"].(map[string]any)
	target, _ := spec["target"].(map[string]any)
	tpl, _ := target["template"].(map[string]any)
	if v, _ := tpl["engineVersion"].(string); v == "v1" {
		tpl["engineVersion"] = "v2"
		return true
	}
	return false
}

// otherProvider returns a warning for a store whose provider is not Vault.
func otherProvider(obj map[string]any) string {
	spec, _ := obj["spec"].(map[string]any)
	provider, _ := spec["provider"].(map[string]any)
	if provider == nil {
		return ""
	}
	var names []string
	for p := range provider {
		if p != "vault" {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return fmt.Sprintf("provider %s is not OpenBao/Vault", strings.Join(names, ", "))
	}
	return ""
}

// dropped lists the paths present in orig but missing from kept.
func dropped(orig, kept any, path string) []string {
	switch o := orig.(type) {
	case map[string]any:
		k, _ := kept.(map[string]any)
		var out []string
		for key, v := range o {
			p := path + "." + key
			kv, ok := k[key]
			if !ok {
				if !isEmpty(v) && !benignDefault(key, v) {
					out = append(out, strings.TrimPrefix(p, "."))
				}
				continue
			}
			out = append(out, dropped(v, kv, p)...)
		}
		sort.Strings(out)
		return out
	case []any:
		k, _ := kept.([]any)
		var out []string
		for i, v := range o {
			if i < len(k) {
				out = append(out, dropped(v, k[i], fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
		return out
	}
	return nil
}

// cleanEmpty removes empty maps (also as list entries, e.g. a dataFrom entry
// whose only field was dropped) and the null creationTimestamp that encoding
// typed objects adds, so the output stays as the user wrote it.
func cleanEmpty(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case map[string]any:
			cleanEmpty(t)
		case []any:
			kept := t[:0]
			for _, e := range t {
				if sub, ok := e.(map[string]any); ok {
					cleanEmpty(sub)
				}
				if !isEmpty(e) {
					kept = append(kept, e)
				}
			}
			m[k] = kept
			if len(kept) == 0 {
				delete(m, k)
				continue
			}
		}
		if isEmpty(m[k]) {
			delete(m, k)
		}
	}
}

// benignDefault reports ESO defaults that baosync does without, which exported
// manifests carry on every entry: dropping them changes nothing.
func benignDefault(key string, v any) bool {
	if b, ok := v.(bool); ok && !b {
		return true // false is every boolean's default
	}
	s, _ := v.(string)
	return key == "conversionStrategy" && s == "Default"
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case string:
		return t == ""
	}
	return false
}

func objectName(kind string, obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != "" {
		name = ns + "/" + name
	}
	return kind + " " + name
}

// splitDocuments splits a YAML stream at "---" lines.
func splitDocuments(in []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), in...), []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}
