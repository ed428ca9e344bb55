package pushsecret

import (
	"context"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/outcome"
)

// stateKey is the one state entry of a PushSecret: its selector's generator.
const stateKey = "selector"

// source returns the Secret whose keys are pushed: the selected Secret, or for
// selector.generatorRef the generated values, kept in the PushSecret's state
// Secret so that every refresh pushes the same values.
func (r *Reconciler) source(ctx context.Context, ps *v1alpha1.PushSecret) (*corev1.Secret, error) {
	sel := ps.Spec.Selector
	if sel.GeneratorRef != nil {
		return r.generated(ctx, ps, *sel.GeneratorRef)
	}
	if sel.Secret == nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "spec.selector names neither a secret nor a generatorRef")
	}
	src := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ps.Namespace, Name: sel.Secret.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, outcome.Waitingf(v1alpha1.ReasonSourceNotFound, 0, "Secret %q not found; create it or fix spec.selector", sel.Secret.Name)
		}
		return nil, outcome.FromKube("get Secret "+strconv.Quote(sel.Secret.Name), err)
	}
	return src, nil
}

// generated returns the kept values of the selector's generator, generating
// them once: again only when the generator (its kind, name or spec) changes.
// Dynamic secrets are not pushed: their lease belongs to an ExternalSecret.
func (r *Reconciler) generated(ctx context.Context, ps *v1alpha1.PushSecret, ref v1alpha1.GeneratorRef) (*corev1.Secret, error) {
	res, err := generator.Resolve(ctx, r.APIReader, r.Scope, ps.Namespace, ref)
	if err != nil {
		return nil, err
	}
	gen, static, err := generator.Static(res)
	if err != nil {
		return nil, err
	}
	if !static {
		return nil, outcome.Terminalf(v1alpha1.ReasonGeneratorFailed,
			"%s %q: a PushSecret pushes Password and UUID values only; read dynamic secrets with an ExternalSecret", res.Kind, res.Name)
	}
	state, err := generatorstate.Load(ctx, r.APIReader, ps, v1alpha1.GroupVersion.WithKind("PushSecret"), nil) // Password and UUID only: no lease record
	if err != nil {
		return nil, err
	}
	entry, found := state.Get(stateKey)
	if !found || entry.Hash != res.Hash || len(entry.Values) == 0 {
		values, err := gen.Generate(ctx)
		if err != nil {
			return nil, err
		}
		entry = generatorstate.Entry{Values: values, Hash: res.Hash, GeneratedAt: time.Now().UTC()}
		state.Set(stateKey, entry)
		if err := state.Save(ctx, r.Client); err != nil {
			return nil, err
		}
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ps.Namespace, Name: generatorstate.Name("PushSecret", ps)},
		Data: entry.Values}, nil
}

// sourceName describes the source in messages.
func sourceName(ps *v1alpha1.PushSecret) string {
	if ref := ps.Spec.Selector.GeneratorRef; ref != nil {
		return ref.Kind + " " + strconv.Quote(ref.Name)
	}
	if ps.Spec.Selector.Secret != nil {
		return "Secret " + strconv.Quote(ps.Spec.Selector.Secret.Name)
	}
	return "no source"
}
