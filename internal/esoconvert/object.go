package esoconvert

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/baosync/baosync/api/v1alpha1"
)

// kinds maps each ESO kind to a fresh baosync object it converts into.
var kinds = map[string]func() any{
	"SecretStore":        func() any { return &v1alpha1.SecretStore{} },
	"ClusterSecretStore": func() any { return &v1alpha1.ClusterSecretStore{} },
	"ExternalSecret":     func() any { return &v1alpha1.ExternalSecret{} },
	"ClusterExternalSecret": func() any {
		return &v1alpha1.ClusterExternalSecret{}
	},
	"PushSecret":        func() any { return &v1alpha1.PushSecret{} },
	"ClusterPushSecret": func() any { return &v1alpha1.ClusterPushSecret{} },
	// generators.external-secrets.io kinds baosync has
	"Password":           func() any { return &v1alpha1.Password{} },
	"UUID":               func() any { return &v1alpha1.UUID{} },
	"VaultDynamicSecret": func() any { return &v1alpha1.VaultDynamicSecret{} },
	"ClusterGenerator":   func() any { return &v1alpha1.ClusterGenerator{} },
}

// conversion is the conversion of one ESO object, edited in place.
type conversion struct {
	root       *yaml.Node
	kind       string
	apiVersion string
	name       string // "ExternalSecret app/db"
	namespace  string
	objName    string
	warnings   []Warning
	// skipped: not for baosync (another provider, a kind baosync lacks).
	skipped bool
	// failed: an ESO Vault object that could not be converted faithfully.
	failed bool
	// touched are collections the conversion removed entries from.
	touched map[*yaml.Node]bool
}

func newConversion(root *yaml.Node, kind, apiVersion string) *conversion {
	meta := at(root, path("metadata"))
	c := &conversion{root: root, kind: kind, apiVersion: apiVersion, touched: map[*yaml.Node]bool{}}
	c.objName = scalarString(at(meta, path("name")))
	c.namespace = scalarString(at(meta, path("namespace")))
	c.name = kind + " " + c.objName
	if c.namespace != "" {
		c.name = kind + " " + c.namespace + "/" + c.objName
	}
	return c
}

// warn records a field carried over differently (or dropped).
func (c *conversion) warn(p fieldPath, msg string) {
	c.warnings = append(c.warnings, Warning{Object: c.name, Message: prefix(p) + msg})
}

// fail records why the object is not converted.
func (c *conversion) fail(p fieldPath, msg string) {
	c.failed = true
	c.warnings = append(c.warnings, Warning{Object: c.name, Message: prefix(p) + msg + "; not converted", Failed: true})
}

// skip records an object that is not for baosync.
func (c *conversion) skip(msg string) {
	c.skipped = true
	c.warnings = append(c.warnings, Warning{Object: c.name, Message: msg + "; skipped"})
}

func prefix(p fieldPath) string {
	if len(p) == 0 {
		return ""
	}
	return "field " + p.String() + ": "
}

// run converts the object: renames first, then refusals, then drops
// whatever baosync's type does not hold.
func (c *conversion) run() {
	newObj, ok := kinds[c.kind]
	if !ok {
		c.skip(fmt.Sprintf("kind %s (%s) has no baosync equivalent", c.kind, c.apiVersion))
		return
	}
	if c.isStore() && !c.storeProvider() {
		return
	}
	c.rename()
	c.refuse()
	if c.failed {
		return
	}
	if remove(c.root, path("status")) {
		c.touched[c.root] = true
	}
	c.dropUnknown(newObj())
	c.checkTemplates()
	prune(c.root, c.touched)
}

func (c *conversion) isStore() bool {
	return c.kind == "SecretStore" || c.kind == "ClusterSecretStore"
}

// esSpec is where the ExternalSecret spec of the object lives, nil for
// kinds without one.
func (c *conversion) esSpec() fieldPath {
	switch c.kind {
	case "ExternalSecret":
		return path("spec")
	case "ClusterExternalSecret":
		return path("spec", "externalSecretSpec")
	}
	return nil
}

// pushSpec is where the PushSecret spec of the object lives, nil for kinds
// without one.
func (c *conversion) pushSpec() fieldPath {
	switch c.kind {
	case "PushSecret":
		return path("spec")
	case "ClusterPushSecret":
		return path("spec", "pushSecretSpec")
	}
	return nil
}

// storeProvider maps ESO's dedicated OpenBao provider (the Vault
// provider's shape) to vault, and skips stores of other providers.
func (c *conversion) storeProvider() bool {
	pp := path("spec", "provider")
	provider := at(c.root, pp)
	if provider == nil {
		return true
	}
	if at(provider, path("vault")) == nil {
		rename(c.root, pp.child("openBao"), "vault") // ESO v2.7+: the same fields as vault
		rename(c.root, pp.child("openbao"), "vault")
	}
	var others []string
	for i := 0; i+1 < len(provider.Content); i += 2 {
		if k := provider.Content[i].Value; k != "vault" {
			others = append(others, k)
		}
	}
	sort.Strings(others)
	if len(others) > 0 {
		c.skip(fmt.Sprintf("provider %s is not OpenBao/Vault", strings.Join(others, ", ")))
		return false
	}
	return true
}

// dropUnknown removes every field baosync's type does not hold, by
// decoding the object into it and comparing. Defaults ESO's CRDs add are
// removed silently; anything else is reported with its reason.
func (c *conversion) dropUnknown(typed any) {
	var orig map[string]any
	if err := c.root.Decode(&orig); err != nil {
		c.fail(nil, fmt.Sprintf("does not decode (%v)", err))
		return
	}
	raw, err := json.Marshal(orig)
	if err == nil {
		err = json.Unmarshal(raw, typed)
	}
	if err != nil {
		c.fail(nil, fmt.Sprintf("does not fit baosync's %s (%v)", c.kind, err))
		return
	}
	back, err := json.Marshal(typed)
	var kept map[string]any
	if err == nil {
		err = json.Unmarshal(back, &kept)
	}
	if err != nil {
		c.fail(nil, fmt.Sprintf("does not encode as baosync's %s (%v)", c.kind, err))
		return
	}
	for _, d := range dropped(orig, kept, nil) {
		if remove(c.root, d.path) {
			c.touched[at(c.root, d.path[:len(d.path)-1])] = true
		}
		switch {
		case benignDefault(d.path, d.value):
		case refusedReason(d.path) != "":
			c.fail(d.path, refusedReason(d.path))
		default:
			c.warn(d.path, droppedReason(d.path))
		}
	}
}

// drop is a field present in the input and absent from baosync's type.
type drop struct {
	path  fieldPath
	value any
}

// dropped lists the fields present in orig but missing from kept, in a
// stable order.
func dropped(orig, kept any, p fieldPath) []drop {
	switch o := orig.(type) {
	case map[string]any:
		k, _ := kept.(map[string]any)
		keys := make([]string, 0, len(o))
		for key := range o {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		var out []drop
		for _, key := range keys {
			v := o[key]
			kv, ok := k[key]
			if !ok {
				out = append(out, drop{path: p.child(key), value: v})
				continue
			}
			out = append(out, dropped(v, kv, p.child(key))...)
		}
		return out
	case []any:
		k, _ := kept.([]any)
		var out []drop
		for i, v := range o {
			if i < len(k) {
				out = append(out, dropped(v, k[i], p.item(i))...)
			}
		}
		return out
	}
	return nil
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	case string:
		return t == ""
	}
	return false
}
