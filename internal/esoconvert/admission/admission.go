// Package admission checks baosync objects offline the way the API server
// admits them: defaults from the CRDs' OpenAPI schemas, unknown fields
// (which kubectl's strict field validation refuses), the schemas and their
// CEL rules (x-kubernetes-validations), with Kubernetes' own libraries, so
// that `baosync convert` never prints an object that `kubectl apply` would
// refuse.
package admission

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/config/crd"
)

// kindSchema is what checking one kind needs, built once from its CRD.
type kindSchema struct {
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	cel        *cel.Validator
}

var (
	loadOnce sync.Once
	schemas  map[string]*kindSchema // by "apiVersion/kind"
	errLoad  error
)

// load parses the embedded CRDs on first use only, so that the operator,
// which never checks, pays nothing for them.
func load() (map[string]*kindSchema, error) {
	loadOnce.Do(func() { schemas, errLoad = parseAll(crd.Bases) })
	return schemas, errLoad
}

func parseAll(files fs.FS) (map[string]*kindSchema, error) {
	names, err := fs.Glob(files, "bases/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list CRDs: %w", err)
	}
	out := map[string]*kindSchema{}
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		def := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(b, def); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for _, v := range def.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			ks, err := newKindSchema(v.Schema.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("%s version %s: %w", name, v.Name, err)
			}
			out[def.Spec.Group+"/"+v.Name+"/"+def.Spec.Names.Kind] = ks
		}
	}
	return out, nil
}

func newKindSchema(v1 *apiextensionsv1.JSONSchemaProps) (*kindSchema, error) {
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v1, internal, nil); err != nil {
		return nil, fmt.Errorf("convert the schema: %w", err)
	}
	ss, err := structuralschema.NewStructural(internal)
	if err != nil {
		return nil, fmt.Errorf("structural schema: %w", err)
	}
	sv, _, err := validation.NewSchemaValidator(internal)
	if err != nil {
		return nil, fmt.Errorf("schema validator: %w", err)
	}
	return &kindSchema{structural: ss, validator: sv, cel: cel.NewValidator(ss, true, celconfig.PerCallLimit)}, nil
}

// Check returns what the API server would refuse in the object (YAML or
// JSON of a baosync.io kind): one line per problem, naming the field and the
// rule, never the value (a manifest may hold one). An object of a kind
// baosync does not define is refused too.
func Check(ctx context.Context, doc []byte) ([]string, error) {
	all, err := load()
	if err != nil {
		return nil, err
	}
	// As the API server decodes it: whole numbers as int64, not float64.
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("parse the object: %w", err)
	}
	obj := map[string]any{}
	if err := utiljson.Unmarshal(js, &obj); err != nil {
		return nil, fmt.Errorf("parse the object: %w", err)
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	ks, ok := all[apiVersion+"/"+kind]
	if !ok {
		return []string{fmt.Sprintf("%s %s is not a kind baosync defines", apiVersion, kind)}, nil
	}
	var problems []string
	name, _ := nestedString(obj, "metadata", "name")
	gen, _ := nestedString(obj, "metadata", "generateName")
	switch {
	case name == "" && gen == "":
		problems = append(problems, "metadata.name: Required value")
	case name != "":
		for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
			problems = append(problems, "metadata.name: Invalid value: "+msg)
		}
	}
	for _, p := range pruning.PruneWithOptions(obj, ks.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		problems = append(problems, p+": unknown field (kubectl apply refuses it)")
	}
	defaulting.Default(obj, ks.structural)
	errs := validation.ValidateCustomResource(nil, obj, ks.validator)
	celErrs, _ := ks.cel.Validate(ctx, nil, ks.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	for _, e := range append(errs, celErrs...) {
		problems = append(problems, describe(e))
	}
	sort.Strings(problems)
	return problems, nil
}

// describe words a field error without its value.
func describe(e *field.Error) string {
	msg := e.Field + ": " + e.Type.String()
	if d := strings.TrimSpace(e.Detail); d != "" {
		msg += ": " + d
	}
	return msg
}

func nestedString(obj map[string]any, keys ...string) (string, bool) {
	var cur any = obj
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = m[k]
	}
	s, ok := cur.(string)
	return s, ok
}
