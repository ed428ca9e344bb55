// Command apidocs writes docs/api-reference.md from the generated CRDs in
// config/crd/bases, so the reference always matches the Go types (it runs in
// `make generate`, and `make verify` fails when it is stale).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: apidocs CRD_DIR OUTPUT.md")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.yaml"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "apidocs: no CRDs in %s\n", os.Args[1])
		os.Exit(1)
	}
	sort.Strings(files)
	var b strings.Builder
	b.WriteString("# API reference (baosync.io/v1alpha1)\n\n")
	b.WriteString("Generated from the CRDs by `make generate` (hack/apidocs); do not edit. Field names follow ESO's\n")
	b.WriteString("`external-secrets.io/v1` where the concepts are shared. Validation rules that admission enforces\n")
	b.WriteString("(CEL) are listed under each type.\n\n")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			fmt.Fprintf(os.Stderr, "apidocs: %s: %v\n", f, err)
			os.Exit(1)
		}
		writeKind(&b, crd)
	}
	if err := os.WriteFile(os.Args[2], []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// writeKind documents one kind: its scope, short names and every field.
func writeKind(b *strings.Builder, crd *apiextensionsv1.CustomResourceDefinition) {
	v := crd.Spec.Versions[0]
	fmt.Fprintf(b, "## %s\n\n", crd.Spec.Names.Kind)
	fmt.Fprintf(b, "Scope: %s. Short names: %s.\n\n", crd.Spec.Scope, strings.Join(crd.Spec.Names.ShortNames, ", "))
	schema := v.Schema.OpenAPIV3Schema
	fmt.Fprintf(b, "%s\n\n", oneLine(schema.Description))
	rules := schema.XValidations
	fmt.Fprintf(b, "| field | type | description |\n|---|---|---|\n")
	for _, top := range []string{"spec", "status"} {
		if p, ok := schema.Properties[top]; ok {
			walk(b, top, p, required(schema, top), &rules)
		}
	}
	if len(rules) > 0 {
		b.WriteString("\nAdmission rules:\n\n")
		for _, r := range rules {
			fmt.Fprintf(b, "- %s\n", oneLine(r.Message))
		}
	}
	b.WriteString("\n")
}

// walk writes one row per field, depth first, in name order.
func walk(b *strings.Builder, path string, p apiextensionsv1.JSONSchemaProps, req bool, rules *apiextensionsv1.ValidationRules) {
	desc := oneLine(p.Description)
	if req {
		desc = "**Required.** " + desc
	}
	if p.Default != nil {
		desc += fmt.Sprintf(" Default: `%s`.", strings.TrimSpace(string(p.Default.Raw)))
	}
	if len(p.Enum) > 0 {
		var vals []string
		for _, e := range p.Enum {
			vals = append(vals, strings.Trim(string(e.Raw), `"`))
		}
		desc += " One of: " + strings.Join(vals, ", ") + "."
	}
	fmt.Fprintf(b, "| `%s` | %s | %s |\n", path, typeOf(p), strings.ReplaceAll(desc, "|", "\\|"))
	*rules = append(*rules, p.XValidations...)
	names := make([]string, 0, len(p.Properties))
	for n := range p.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		walk(b, path+"."+n, p.Properties[n], required(&p, n), rules)
	}
	if p.Items != nil && p.Items.Schema != nil {
		item := *p.Items.Schema
		*rules = append(*rules, item.XValidations...)
		names := make([]string, 0, len(item.Properties))
		for n := range item.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			walk(b, path+"[]."+n, item.Properties[n], required(&item, n), rules)
		}
	}
}

func required(p *apiextensionsv1.JSONSchemaProps, name string) bool {
	for _, r := range p.Required {
		if r == name {
			return true
		}
	}
	return false
}

func typeOf(p apiextensionsv1.JSONSchemaProps) string {
	switch {
	case p.Type == "array" && p.Items != nil && p.Items.Schema != nil:
		return p.Items.Schema.Type + "[]"
	case p.Type == "object" && p.AdditionalProperties != nil && p.AdditionalProperties.Schema != nil:
		return "map[string]" + p.AdditionalProperties.Schema.Type
	case p.Type == "":
		return "any"
	}
	return p.Type
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
