// Package clusterexternalsecret reconciles ClusterExternalSecrets: it keeps one
// ExternalSecret in every selected namespace, owned by the
// ClusterExternalSecret, and removes those of namespaces no longer selected.
package clusterexternalsecret

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
	"github.com/baosync/baosync/controllers/internal/outcome"
	"github.com/baosync/baosync/controllers/internal/statuspatch"
)

// LabelOwner marks the ExternalSecrets a ClusterExternalSecret created.
const LabelOwner = "baosync.io/cluster-external-secret"

// Reconciler keeps ClusterExternalSecrets' ExternalSecrets in place.
type Reconciler struct {
	client.Client
	Recorder recorder.EventRecorder
}

// +kubebuilder:rbac:groups=baosync.io,resources=clusterexternalsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=clusterexternalsecrets/status,verbs=patch
// +kubebuilder:rbac:groups=baosync.io,resources=externalsecrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile creates or updates the ExternalSecret of each selected namespace,
// deletes those of namespaces no longer selected, and records the outcome.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ces := &v1alpha1.ClusterExternalSecret{}
	if err := r.Get(ctx, req.NamespacedName, ces); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err) // owner references remove its ExternalSecrets
	}
	if !ces.DeletionTimestamp.IsZero() {
		// Going (with propagation Orphan, its ExternalSecrets stay): it
		// provisions nothing more, so nothing is made again behind the deletion.
		return ctrl.Result{}, nil
	}
	before := ces.DeepCopy()
	err := r.sync(ctx, ces)
	if err != nil { // an early failure is told too, not only a namespace's
		conditions.SetReady(r.Recorder, ces, &ces.Status.Conditions, ces.Generation, metav1.ConditionFalse, v1alpha1.ReasonKubernetesAPIError,
			"Reconcile", err.Error())
	}
	if perr := statuspatch.IfChanged(ctx, r.Client, before, ces, func(o *v1alpha1.ClusterExternalSecret) any { return o.Status }); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: outcome.Jitter(refreshInterval(ces))}, nil
}

// sync provisions the selected namespaces, prunes the others and sets the
// status of what it did.
func (r *Reconciler) sync(ctx context.Context, ces *v1alpha1.ClusterExternalSecret) error {
	selected, err := r.selectedNamespaces(ctx, ces)
	if err != nil {
		return err
	}
	provisioned, failed := r.provision(ctx, ces, selected)
	if err := r.prune(ctx, ces, selected); err != nil {
		return err
	}
	r.setStatus(ces, provisioned, failed)
	return nil
}

// selectedNamespaces lists the namespaces named or matched by a selector.
func (r *Reconciler) selectedNamespaces(ctx context.Context, ces *v1alpha1.ClusterExternalSecret) ([]string, error) {
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var out []string
	for _, ns := range list.Items {
		if ns.DeletionTimestamp.IsZero() && selects(ces, &ns) {
			out = append(out, ns.Name)
		}
	}
	return out, nil
}

// selects reports whether the ClusterExternalSecret selects the namespace.
func selects(ces *v1alpha1.ClusterExternalSecret, ns *corev1.Namespace) bool {
	if slices.Contains(ces.Spec.Namespaces, ns.Name) {
		return true
	}
	for _, s := range ces.Spec.NamespaceSelectors {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err == nil && sel.Matches(labels.Set(ns.Labels)) {
			return true
		}
	}
	return false
}

// provision creates or updates the ExternalSecret in each namespace.
func (r *Reconciler) provision(ctx context.Context, ces *v1alpha1.ClusterExternalSecret, namespaces []string) ([]string, []v1alpha1.ClusterExternalSecretNamespaceFailure) {
	var ok []string
	var failed []v1alpha1.ClusterExternalSecretNamespaceFailure
	for _, ns := range namespaces {
		if err := r.ensure(ctx, ces, ns); err != nil {
			failed = append(failed, v1alpha1.ClusterExternalSecretNamespaceFailure{Namespace: ns, Reason: err.Error()})
			continue
		}
		ok = append(ok, ns)
	}
	return ok, failed
}

// ensure writes the desired ExternalSecret into one namespace, refusing to
// take over one that another owner created.
func (r *Reconciler) ensure(ctx context.Context, ces *v1alpha1.ClusterExternalSecret, ns string) error {
	es := &v1alpha1.ExternalSecret{}
	key := client.ObjectKey{Namespace: ns, Name: esName(ces)}
	err := r.Get(ctx, key, es)
	switch {
	case apierrors.IsNotFound(err):
		es = &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns}}
	case err != nil:
		return fmt.Errorf("get ExternalSecret: %w", err)
	case !metav1.IsControlledBy(es, ces):
		return errors.New("an ExternalSecret of that name exists and is not managed by this ClusterExternalSecret")
	}
	next := es.DeepCopy()
	next.Labels = maps.Clone(ces.Spec.ExternalSecretMetadata.Labels)
	if next.Labels == nil {
		next.Labels = map[string]string{}
	}
	next.Labels[LabelOwner] = ces.Name
	next.Annotations = maps.Clone(ces.Spec.ExternalSecretMetadata.Annotations)
	next.Spec = ces.Spec.ExternalSecretSpec
	if err := controllerutil.SetControllerReference(ces, next, r.Scheme()); err != nil {
		return fmt.Errorf("set owner: %w", err)
	}
	if es.ResourceVersion == "" {
		return r.Create(ctx, next)
	}
	if equality.Semantic.DeepEqual(es.Spec, next.Spec) && equality.Semantic.DeepEqual(es.Labels, next.Labels) &&
		equality.Semantic.DeepEqual(es.Annotations, next.Annotations) && equality.Semantic.DeepEqual(es.OwnerReferences, next.OwnerReferences) {
		return nil
	}
	return r.Update(ctx, next)
}

// prune deletes this ClusterExternalSecret's ExternalSecrets in namespaces it
// no longer selects, and those left under an old externalSecretName.
func (r *Reconciler) prune(ctx context.Context, ces *v1alpha1.ClusterExternalSecret, selected []string) error {
	list := &v1alpha1.ExternalSecretList{}
	if err := r.List(ctx, list, client.MatchingLabels{LabelOwner: ces.Name}); err != nil {
		return fmt.Errorf("list ExternalSecrets: %w", err)
	}
	for i := range list.Items {
		es := &list.Items[i]
		if !metav1.IsControlledBy(es, ces) || (slices.Contains(selected, es.Namespace) && es.Name == esName(ces)) {
			continue
		}
		if err := r.Delete(ctx, es); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete ExternalSecret %s/%s: %w", es.Namespace, es.Name, err)
		}
	}
	return nil
}

// setStatus records provisioned and failed namespaces and Ready.
func (r *Reconciler) setStatus(ces *v1alpha1.ClusterExternalSecret, ok []string, failed []v1alpha1.ClusterExternalSecretNamespaceFailure) {
	ces.Status.ExternalSecretName = esName(ces)
	ces.Status.ProvisionedNamespaces = ok
	ces.Status.FailedNamespaces = failed
	if len(failed) == 0 {
		conditions.SetReady(r.Recorder, ces, &ces.Status.Conditions, ces.Generation, metav1.ConditionTrue, v1alpha1.ReasonNamespacesProvisioned,
			"Reconcile", fmt.Sprintf("ExternalSecret %q is in place in %d namespaces", esName(ces), len(ok)))
		return
	}
	conditions.SetReady(r.Recorder, ces, &ces.Status.Conditions, ces.Generation, metav1.ConditionFalse, v1alpha1.ReasonNamespacesFailed,
		"Reconcile", fmt.Sprintf("%d of %d namespaces failed, first %s: %s", len(failed), len(ok)+len(failed), failed[0].Namespace, failed[0].Reason))
}

func esName(ces *v1alpha1.ClusterExternalSecret) string {
	if ces.Spec.ExternalSecretName != "" {
		return ces.Spec.ExternalSecretName
	}
	return ces.Name
}

func refreshInterval(ces *v1alpha1.ClusterExternalSecret) time.Duration {
	if ces.Spec.RefreshInterval == nil || ces.Spec.RefreshInterval.Duration <= 0 {
		return time.Minute
	}
	return ces.Spec.RefreshInterval.Duration
}

// SetupWithManager watches ClusterExternalSecrets, the ExternalSecrets they
// own, and namespaces (a new or relabelled namespace may be selected).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named("clusterexternalsecret").
		For(&v1alpha1.ClusterExternalSecret{}).
		Owns(&v1alpha1.ExternalSecret{}).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.all)).
		Complete(outcome.Retrying("Failed to reconcile ClusterExternalSecret", r))
}

// all enqueues every ClusterExternalSecret.
func (r *Reconciler) all(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &v1alpha1.ClusterExternalSecretList{}
	if err := r.List(ctx, list); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, c := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
	}
	return reqs
}
