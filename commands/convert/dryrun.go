package convert

import (
	"context"
	"errors"
	"fmt"
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
// reason, and for a field refusal each field with the kind of problem. Only a
// refusal that names no field (a missing namespace, a denied request) keeps
// its message.
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
		parts = append(parts, fmt.Sprintf("%s: %s", c.Field, c.Type))
	}
	return fmt.Sprintf("%s (%s)", s.Reason, strings.Join(parts, "; "))
}
