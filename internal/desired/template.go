package desired

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/template"
)

// templated is what the templates produced.
type templated struct {
	data        map[string][]byte
	labels      map[string]string
	annotations map[string]string
}

// applyTemplates renders target.template.data and templateFrom over the
// fetched values. Without templates the values pass through unchanged. It
// fails with TemplateError: terminal for a template that does not parse or
// exceeds its evaluation budget, waiting for one that fails on the data.
func (b *Builder) applyTemplates(ctx context.Context, es *v1alpha1.ExternalSecret, values map[string][]byte) (*templated, error) {
	out := &templated{data: values, labels: map[string]string{}, annotations: map[string]string{}}
	t := es.Spec.Target.Template
	if t == nil || (len(t.Data) == 0 && len(t.TemplateFrom) == 0) {
		return out, nil
	}
	if t.MergePolicy != v1alpha1.MergePolicyMerge {
		out.data = map[string][]byte{}
	} else {
		out.data = maps.Clone(values)
	}
	session := template.NewSession() // one budget for all of this object's templates
	for key, text := range t.Data {
		b, err := session.Render(fmt.Sprintf("template.data[%q]", key), text, values)
		if err != nil {
			return nil, templateError(err)
		}
		out.data[key] = b
	}
	for i, from := range t.TemplateFrom {
		m, err := b.renderFrom(ctx, session, es, i, from, values)
		if err != nil {
			return nil, err
		}
		if err := decodeValues(m, from.ValuesDecodingStrategy); err != nil {
			return nil, outcome.Within(fmt.Sprintf("template.templateFrom[%d].valuesDecodingStrategy", i), err)
		}
		out.put(from.Target, m)
	}
	return out, nil
}

// decodeValues decodes each rendered value of a templateFrom entry in place;
// its errors name the key, never the value.
func decodeValues(m map[string]string, strategy v1alpha1.DecodingStrategy) error {
	if strategy == "" || strategy == v1alpha1.DecodingStrategyNone {
		return nil
	}
	for k, v := range m {
		d, err := decode([]byte(v), strategy)
		if err != nil {
			return outcome.Within(fmt.Sprintf("key %q", k), err)
		}
		m[k] = string(d)
	}
	return nil
}

// renderFrom renders one templateFrom entry into a key/value map.
func (b *Builder) renderFrom(ctx context.Context, session *template.Session, es *v1alpha1.ExternalSecret, i int, from v1alpha1.TemplateFrom, values map[string][]byte) (map[string]string, error) {
	name := fmt.Sprintf("template.templateFrom[%d]", i)
	if from.Literal != nil {
		m, err := session.RenderMap(name+".literal", *from.Literal, values)
		return m, templateError(err)
	}
	ref, texts, err := b.templateSource(ctx, es, from)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, item := range ref.Items {
		text, ok := texts[item.Key]
		if !ok {
			return nil, outcome.Waitingf(v1alpha1.ReasonTemplateError, 0, "%s: %q has no key %q", name, ref.Name, item.Key)
		}
		itemName := fmt.Sprintf("%s %s[%q]", name, ref.Name, item.Key)
		if item.TemplateAs == v1alpha1.TemplateScopeKeysAndValues {
			m, err := session.RenderMap(itemName, text, values)
			if err != nil {
				return nil, templateError(err)
			}
			maps.Copy(out, m)
			continue
		}
		b, err := session.Render(itemName, text, values)
		if err != nil {
			return nil, templateError(err)
		}
		out[item.Key] = string(b)
	}
	return out, nil
}

// templateSource reads the ConfigMap or Secret holding templates (in the
// ExternalSecret's namespace, uncached: baosync caches only its own Secrets).
func (b *Builder) templateSource(ctx context.Context, es *v1alpha1.ExternalSecret, from v1alpha1.TemplateFrom) (*v1alpha1.TemplateRef, map[string]string, error) {
	texts := map[string]string{}
	if from.ConfigMap != nil {
		cm := &corev1.ConfigMap{}
		if err := b.Live.Get(ctx, client.ObjectKey{Namespace: es.Namespace, Name: from.ConfigMap.Name}, cm); err != nil {
			return nil, nil, outcome.Waitingf(v1alpha1.ReasonTemplateError, 0, "read template ConfigMap %q: %v", from.ConfigMap.Name, err)
		}
		maps.Copy(texts, cm.Data)
		return from.ConfigMap, texts, nil
	}
	s := &corev1.Secret{}
	if err := b.Live.Get(ctx, client.ObjectKey{Namespace: es.Namespace, Name: from.Secret.Name}, s); err != nil {
		return nil, nil, outcome.Waitingf(v1alpha1.ReasonTemplateError, 0, "read template Secret %q: %v", from.Secret.Name, err)
	}
	for k, v := range s.Data {
		texts[k] = string(v)
	}
	return from.Secret, texts, nil
}

// put stores rendered output where target says.
func (t *templated) put(target v1alpha1.TemplateTarget, m map[string]string) {
	switch target {
	case v1alpha1.TemplateTargetLabels:
		maps.Copy(t.labels, m)
	case v1alpha1.TemplateTargetAnnotations:
		maps.Copy(t.annotations, m)
	default:
		for k, v := range m {
			t.data[k] = []byte(v)
		}
	}
}

// templateError classifies a template failure (see template.Outcome).
func templateError(err error) error { return template.Outcome(err) }
