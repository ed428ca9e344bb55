// Package fanout keeps one namespaced object per selected namespace for a
// cluster-scoped one: the ExternalSecrets of a ClusterExternalSecret and the
// PushSecrets of a ClusterPushSecret. It creates and updates them, owned by
// the cluster-scoped object, deletes those of namespaces no longer selected,
// and reports which namespaces have theirs.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/conditions"
	"github.com/baosync/baosync/controllers/internal/statuspatch"
	"github.com/baosync/baosync/internal/outcome"
)

// Failure says why a namespace has no child.
type Failure struct {
	// Namespace that failed.
	Namespace string
	// Reason it failed.
	Reason string
}

// Kind describes a cluster-scoped kind P and the namespaced kind C it keeps.
type Kind[P, C client.Object] struct {
	// Name is the controller's name, e.g. "clusterexternalsecret".
	Name string
	// Parent and Child are P's and C's kinds, for messages.
	Parent, Child string
	// LabelOwner marks the children with the parent's name.
	LabelOwner string
	// NewParent, NewParentList, NewChild and NewChildList return empty objects.
	NewParent     func() P
	NewParentList func() client.ObjectList
	NewChild      func() C
	NewChildList  func() client.ObjectList
	// Selects reports whether the parent selects the namespace.
	Selects func(P, *corev1.Namespace) bool
	// ChildName is the children's name.
	ChildName func(P) string
	// Metadata are the labels and annotations the parent gives its children.
	Metadata func(P) (labels, annotations map[string]string)
	// CopySpec writes the parent's spec for children into child.
	CopySpec func(parent P, child C)
	// SameSpec reports whether two children have the same spec.
	SameSpec func(a, b C) bool
	// Conditions and Status address the parent's status.
	Conditions func(P) *[]metav1.Condition
	Status     func(P) any
	// SetStatus records the child name, provisioned and failed namespaces.
	SetStatus func(p P, childName string, provisioned []string, failed []Failure)
	// Interval is how often the namespaces are checked again.
	Interval func(P) time.Duration
}

// Reconciler keeps the children of parents of one Kind in place.
type Reconciler[P, C client.Object] struct {
	client.Client
	Recorder recorder.EventRecorder
	Kind     Kind[P, C]
}

// Reconcile creates or updates the child of each selected namespace, deletes
// those of namespaces no longer selected, and records the outcome.
func (r *Reconciler[P, C]) Reconcile(ctx context.Context, req ctrl.Request) outcome.Result {
	parent := r.Kind.NewParent()
	if err := r.Get(ctx, req.NamespacedName, parent); err != nil {
		return outcome.Failed(client.IgnoreNotFound(err), 0) // owner references remove its children
	}
	if !parent.GetDeletionTimestamp().IsZero() {
		// Going (with propagation Orphan, its children stay): it provisions
		// nothing more, so nothing is made again behind the deletion.
		return outcome.Next(0)
	}
	before := parent.DeepCopyObject().(P) //nolint:forcetypeassert // DeepCopyObject returns the same type
	err := r.sync(ctx, parent)
	if err != nil { // an early failure is told too, not only a namespace's
		conditions.SetReady(r.Recorder, parent, r.Kind.Conditions(parent), parent.GetGeneration(), metav1.ConditionFalse,
			v1alpha1.ReasonKubernetesAPIError, "Reconcile", err.Error())
	}
	if perr := statuspatch.IfChanged(ctx, r.Client, before, parent, r.Kind.Status); perr != nil {
		return outcome.Failed(errors.Join(err, perr), 0)
	}
	if err != nil {
		return outcome.Failed(err, 0)
	}
	return outcome.Next(outcome.Jitter(r.Kind.Interval(parent)))
}

// sync provisions the selected namespaces, prunes the others and sets the
// status of what it did.
func (r *Reconciler[P, C]) sync(ctx context.Context, parent P) error {
	selected, err := r.selectedNamespaces(ctx, parent)
	if err != nil {
		return err
	}
	var ok []string
	var failed []Failure
	for _, ns := range selected {
		if err := r.ensure(ctx, parent, ns); err != nil {
			failed = append(failed, Failure{Namespace: ns, Reason: err.Error()})
			continue
		}
		ok = append(ok, ns)
	}
	if err := r.prune(ctx, parent, selected); err != nil {
		return err
	}
	r.setStatus(parent, ok, failed)
	return nil
}

// selectedNamespaces lists the namespaces the parent selects.
func (r *Reconciler[P, C]) selectedNamespaces(ctx context.Context, parent P) ([]string, error) {
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var out []string
	for _, ns := range list.Items {
		if ns.DeletionTimestamp.IsZero() && r.Kind.Selects(parent, &ns) {
			out = append(out, ns.Name)
		}
	}
	return out, nil
}

// ensure writes the desired child into one namespace, refusing to take over
// one that another owner created.
func (r *Reconciler[P, C]) ensure(ctx context.Context, parent P, ns string) error {
	child := r.Kind.NewChild()
	key := client.ObjectKey{Namespace: ns, Name: r.Kind.ChildName(parent)}
	err := r.Get(ctx, key, child)
	switch {
	case apierrors.IsNotFound(err):
		child.SetNamespace(ns)
		child.SetName(key.Name)
	case err != nil:
		return fmt.Errorf("get %s: %w", r.Kind.Child, err)
	case !metav1.IsControlledBy(child, parent):
		return fmt.Errorf("a%s %s of that name exists and is not managed by this %s", article(r.Kind.Child), r.Kind.Child, r.Kind.Name)
	}
	next := child.DeepCopyObject().(C) //nolint:forcetypeassert // DeepCopyObject returns the same type
	labels, annotations := r.Kind.Metadata(parent)
	labels = maps.Clone(labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[r.Kind.LabelOwner] = parent.GetName()
	next.SetLabels(labels)
	annotations = maps.Clone(annotations)
	// kubectl's record of what it applied belongs to whoever applied the
	// child; the ExternalSecret cache does not even keep it, so from a
	// template it would make every reconcile an update.
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	next.SetAnnotations(annotations)
	r.Kind.CopySpec(parent, next)
	if err := controllerutil.SetControllerReference(parent, next, r.Scheme()); err != nil {
		return fmt.Errorf("set owner: %w", err)
	}
	if child.GetResourceVersion() == "" {
		return r.Create(ctx, next)
	}
	if r.Kind.SameSpec(child, next) && equality.Semantic.DeepEqual(child.GetLabels(), next.GetLabels()) &&
		equality.Semantic.DeepEqual(child.GetAnnotations(), next.GetAnnotations()) &&
		equality.Semantic.DeepEqual(child.GetOwnerReferences(), next.GetOwnerReferences()) {
		return nil
	}
	return r.Update(ctx, next)
}

// article is "n" before a kind that starts with a vowel sound.
func article(kind string) string {
	if kind != "" && slices.Contains([]byte("AEIOU"), kind[0]) {
		return "n"
	}
	return ""
}

// prune deletes the parent's children in namespaces it no longer selects,
// and those left under an old child name.
func (r *Reconciler[P, C]) prune(ctx context.Context, parent P, selected []string) error {
	list := r.Kind.NewChildList()
	if err := r.List(ctx, list, client.MatchingLabels{r.Kind.LabelOwner: parent.GetName()}); err != nil {
		return fmt.Errorf("list %ss: %w", r.Kind.Child, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return fmt.Errorf("list %ss: %w", r.Kind.Child, err)
	}
	for _, item := range items {
		child, ok := item.(client.Object)
		if !ok || !metav1.IsControlledBy(child, parent) ||
			(slices.Contains(selected, child.GetNamespace()) && child.GetName() == r.Kind.ChildName(parent)) {
			continue
		}
		if err := r.Delete(ctx, child); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete %s %s/%s: %w", r.Kind.Child, child.GetNamespace(), child.GetName(), err)
		}
	}
	return nil
}

// setStatus records provisioned and failed namespaces and Ready.
func (r *Reconciler[P, C]) setStatus(parent P, ok []string, failed []Failure) {
	name := r.Kind.ChildName(parent)
	r.Kind.SetStatus(parent, name, ok, failed)
	conds := r.Kind.Conditions(parent)
	if len(failed) == 0 {
		conditions.SetReady(r.Recorder, parent, conds, parent.GetGeneration(), metav1.ConditionTrue, v1alpha1.ReasonNamespacesProvisioned,
			"Reconcile", fmt.Sprintf("%s %q is in place in %d namespaces", r.Kind.Child, name, len(ok)))
		return
	}
	conditions.SetReady(r.Recorder, parent, conds, parent.GetGeneration(), metav1.ConditionFalse, v1alpha1.ReasonNamespacesFailed,
		"Reconcile", fmt.Sprintf("%d of %d namespaces failed, first %s: %s", len(failed), len(ok)+len(failed), failed[0].Namespace, failed[0].Reason))
}

// Selects reports whether a namespace is listed by name or matches one of
// the label selectors.
func Selects(names []string, selectors []*metav1.LabelSelector, ns *corev1.Namespace) bool {
	if slices.Contains(names, ns.Name) {
		return true
	}
	for _, s := range selectors {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err == nil && sel.Matches(labels.Set(ns.Labels)) {
			return true
		}
	}
	return false
}

// SetupWithManager watches the parents, the children they own, and
// namespaces (a new or relabelled namespace may be selected).
func (r *Reconciler[P, C]) SetupWithManager(mgr ctrl.Manager) error {
	if r.Kind.NewParent == nil {
		return errors.New("fanout: the Reconciler has no Kind; build it with its package's New")
	}
	return ctrl.NewControllerManagedBy(mgr).Named(r.Kind.Name).
		For(r.Kind.NewParent()).
		Owns(r.Kind.NewChild()).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.all)).
		Complete(outcome.Retrying(r.Kind.Name, "Failed to reconcile "+r.Kind.Parent, r))
}

// all enqueues every parent.
func (r *Reconciler[P, C]) all(ctx context.Context, _ client.Object) []reconcile.Request {
	list := r.Kind.NewParentList()
	if err := r.List(ctx, list); err != nil {
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(items))
	for _, item := range items {
		if p, ok := item.(client.Object); ok {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: p.GetName()}})
		}
	}
	return reqs
}

// Every is how often a parent with refresh time d checks its namespaces
// again: d, or a minute when it is unset or not positive.
func Every(d *metav1.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return time.Minute
	}
	return d.Duration
}

// Failures are the failed namespaces in the API's shape.
func Failures(failed []Failure) []v1alpha1.ClusterExternalSecretNamespaceFailure {
	var out []v1alpha1.ClusterExternalSecretNamespaceFailure
	for _, f := range failed {
		out = append(out, v1alpha1.ClusterExternalSecretNamespaceFailure{Namespace: f.Namespace, Reason: f.Reason})
	}
	return out
}
