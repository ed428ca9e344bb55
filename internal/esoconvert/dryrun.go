package esoconvert

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// dryRunTimeout bounds the server-side dry run of one object.
const dryRunTimeout = 30 * time.Second

// fieldManager is the field manager named in the dry run's apply requests.
const fieldManager = "baosync-convert"

// ServerDryRun returns a Check that applies each converted object to the
// cluster of c with a server-side dry run (`kubectl apply --server-side
// --dry-run=server`): the cluster's own CRD version, admission webhooks and
// policies judge it, and nothing is written. An object without a namespace
// goes to namespace, as kubectl would send it.
func ServerDryRun(ctx context.Context, c client.Client, namespace string) Check {
	return func(doc []byte) []string {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return []string{fmt.Sprintf("server-side dry run: cannot read the converted object (%v)", err)}
		}
		namespaced, err := c.IsObjectNamespaced(u)
		if meta.IsNoMatchError(err) {
			return []string{fmt.Sprintf("server-side dry run: the cluster does not serve %s %s; install baosync's CRDs",
				u.GetAPIVersion(), u.GetKind())}
		}
		if err != nil {
			return []string{fmt.Sprintf("server-side dry run: cannot ask the cluster about %s: %s", u.GetKind(), Refusal(err))}
		}
		if namespaced && u.GetNamespace() == "" {
			u.SetNamespace(namespace)
		}
		ctx, cancel := context.WithTimeout(ctx, dryRunTimeout)
		defer cancel()
		err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
			client.DryRunAll, client.FieldOwner(fieldManager), client.ForceOwnership)
		if err != nil {
			return []string{"the cluster refuses the converted object in a server-side dry run: " + Refusal(err)}
		}
		return nil
	}
}

// Refusal words an API server's refusal without the values it may quote: the
// reason, and for a field refusal each field with the kind of problem, and
// the message of a CEL rule on an object (baosync's own words, which quote
// no value). Only a refusal that names no field (a missing namespace, a
// denied request) keeps its whole message.
func Refusal(err error) string {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return err.Error()
	}
	s := st.Status()
	if s.Details == nil || len(s.Details.Causes) == 0 {
		return s.Message
	}
	parts := make([]string, 0, len(s.Details.Causes))
	for _, c := range s.Details.Causes {
		part := fmt.Sprintf("%s: %s", c.Field, c.Type)
		if rule, ok := ruleMessage(c.Message); ok {
			part += ": " + rule
		}
		parts = append(parts, part)
	}
	return fmt.Sprintf("%s (%s)", s.Reason, strings.Join(parts, "; "))
}

// ruleMessage returns the message of a validation rule that failed, when
// the API server's words quote no value: a CEL rule on an object
// (`Invalid value: "object": <rule's message>`), or a refusal whose value
// the server left out (`Invalid value: <rule's message>`). A message quoting
// a value (`Invalid value: "x": …`, `Invalid value: 0: …`) gives nothing.
func ruleMessage(msg string) (string, bool) {
	if rule, ok := strings.CutPrefix(msg, `Invalid value: "object": `); ok {
		return rule, true
	}
	rest, ok := strings.CutPrefix(msg, "Invalid value: ")
	if !ok || quotedValue.MatchString(rest) {
		return "", false
	}
	return rest, true
}

// quotedValue matches the value the API server quotes before its message: a
// JSON string, number, boolean or null, then ": ".
var quotedValue = regexp.MustCompile(`^("|-?[0-9]|true: |false: |null: |\{|\[)`)
