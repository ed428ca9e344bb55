package esoconvert

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestRefusal_NamesFieldsNotValues(t *testing.T) {
	gk := schema.GroupKind{Group: "baosync.io", Kind: "ExternalSecret"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{name: "a field refusal names the field and the kind of problem, not the value",
			err:  apierrors.NewInvalid(gk, "app", field.ErrorList{field.Invalid(field.NewPath("spec", "refreshPolicy"), "hunter2", "must be Periodic")}),
			want: "Invalid (spec.refreshPolicy: FieldValueInvalid)"},
		{name: "a CEL rule on an object keeps the rule's message, which quotes no value",
			err:  apierrors.NewInvalid(gk, "app", field.ErrorList{field.Invalid(field.NewPath("spec"), "object", "set secretRef")}),
			want: "Invalid (spec: FieldValueInvalid: set secretRef)"},
		{name: "a rule whose value the server leaves out keeps the rule's message",
			err:  apierrors.NewInvalid(gk, "app", field.ErrorList{field.Invalid(nil, field.OmitValueType{}, "a SecretStore cannot log in as the operator")}),
			want: "Invalid (<nil>: FieldValueInvalid: a SecretStore cannot log in as the operator)"},
		{name: "a number value is not shown", err: apierrors.NewInvalid(gk, "app", field.ErrorList{field.Invalid(field.NewPath("spec", "x"), 42, "hunter2 too big")}),
			want: "Invalid (spec.x: FieldValueInvalid)"},
		{name: "a refusal without fields keeps its message",
			err: apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "team-a"), want: `namespaces "team-a" not found`},
		{name: "another error is shown as it is", err: errors.New("connection refused"), want: "connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Refusal(tc.err)
			if got != tc.want || strings.Contains(got, "hunter2") {
				t.Errorf("refusal = %q, want %q", got, tc.want)
			}
		})
	}
}
