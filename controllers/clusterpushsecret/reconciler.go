// Package clusterpushsecret reconciles ClusterPushSecrets: it keeps one
// PushSecret in every selected namespace, owned by the ClusterPushSecret,
// and removes those of namespaces no longer selected.
package clusterpushsecret

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/fanout"
)

// LabelOwner marks the PushSecrets a ClusterPushSecret created.
const LabelOwner = "baosync.io/cluster-push-secret"

// Reconciler keeps ClusterPushSecrets' PushSecrets in place.
type Reconciler = fanout.Reconciler[*v1alpha1.ClusterPushSecret, *v1alpha1.PushSecret]

// +kubebuilder:rbac:groups=baosync.io,resources=clusterpushsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=clusterpushsecrets/status,verbs=patch
// +kubebuilder:rbac:groups=baosync.io,resources=pushsecrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// New returns the ClusterPushSecret reconciler.
func New(c client.Client, rec recorder.EventRecorder) *Reconciler {
	return &Reconciler{Client: c, Recorder: rec, Kind: kind}
}

type cps = v1alpha1.ClusterPushSecret

// kind is how a ClusterPushSecret keeps its PushSecrets.
var kind = fanout.Kind[*cps, *v1alpha1.PushSecret]{
	Name: "clusterpushsecret", Parent: "ClusterPushSecret", Child: "PushSecret", LabelOwner: LabelOwner,
	NewParent:     func() *cps { return &cps{} },
	NewParentList: func() client.ObjectList { return &v1alpha1.ClusterPushSecretList{} },
	NewChild:      func() *v1alpha1.PushSecret { return &v1alpha1.PushSecret{} },
	NewChildList:  func() client.ObjectList { return &v1alpha1.PushSecretList{} },
	Selects: func(c *cps, ns *corev1.Namespace) bool {
		return fanout.Selects(c.Spec.Namespaces, c.Spec.NamespaceSelectors, ns)
	},
	ChildName: psName,
	Metadata: func(c *cps) (map[string]string, map[string]string) {
		return c.Spec.PushSecretMetadata.Labels, c.Spec.PushSecretMetadata.Annotations
	},
	CopySpec:   func(c *cps, ps *v1alpha1.PushSecret) { ps.Spec = *c.Spec.PushSecretSpec.DeepCopy() },
	SameSpec:   func(a, b *v1alpha1.PushSecret) bool { return equality.Semantic.DeepEqual(a.Spec, b.Spec) },
	Conditions: func(c *cps) *[]metav1.Condition { return &c.Status.Conditions },
	Status:     func(c *cps) any { return c.Status },
	SetStatus: func(c *cps, name string, ok []string, failed []fanout.Failure) {
		c.Status.PushSecretName, c.Status.ProvisionedNamespaces, c.Status.FailedNamespaces = name, ok, fanout.Failures(failed)
	},
	Interval: func(c *cps) time.Duration { return fanout.Every(c.Spec.RefreshInterval) },
}

func psName(c *cps) string {
	if c.Spec.PushSecretName != "" {
		return c.Spec.PushSecretName
	}
	return c.Name
}
