// Package clusterexternalsecret reconciles ClusterExternalSecrets: it keeps one
// ExternalSecret in every selected namespace, owned by the
// ClusterExternalSecret, and removes those of namespaces no longer selected.
package clusterexternalsecret

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

// LabelOwner marks the ExternalSecrets a ClusterExternalSecret created.
const LabelOwner = "baosync.io/cluster-external-secret"

// Reconciler keeps ClusterExternalSecrets' ExternalSecrets in place.
type Reconciler = fanout.Reconciler[*v1alpha1.ClusterExternalSecret, *v1alpha1.ExternalSecret]

// +kubebuilder:rbac:groups=baosync.io,resources=clusterexternalsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=baosync.io,resources=clusterexternalsecrets/status,verbs=patch
// +kubebuilder:rbac:groups=baosync.io,resources=externalsecrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// New returns the ClusterExternalSecret reconciler.
func New(c client.Client, rec recorder.EventRecorder) *Reconciler {
	return &Reconciler{Client: c, Recorder: rec, Kind: kind}
}

type ces = v1alpha1.ClusterExternalSecret

// kind is how a ClusterExternalSecret keeps its ExternalSecrets.
var kind = fanout.Kind[*ces, *v1alpha1.ExternalSecret]{
	Name: "clusterexternalsecret", Parent: "ClusterExternalSecret", Child: "ExternalSecret", LabelOwner: LabelOwner,
	NewParent:     func() *ces { return &ces{} },
	NewParentList: func() client.ObjectList { return &v1alpha1.ClusterExternalSecretList{} },
	NewChild:      func() *v1alpha1.ExternalSecret { return &v1alpha1.ExternalSecret{} },
	NewChildList:  func() client.ObjectList { return &v1alpha1.ExternalSecretList{} },
	Selects: func(c *ces, ns *corev1.Namespace) bool {
		return fanout.Selects(c.Spec.Namespaces, c.Spec.NamespaceSelectors, ns)
	},
	ChildName: esName,
	Metadata: func(c *ces) (map[string]string, map[string]string) {
		return c.Spec.ExternalSecretMetadata.Labels, c.Spec.ExternalSecretMetadata.Annotations
	},
	CopySpec:   func(c *ces, es *v1alpha1.ExternalSecret) { es.Spec = *c.Spec.ExternalSecretSpec.DeepCopy() },
	SameSpec:   func(a, b *v1alpha1.ExternalSecret) bool { return equality.Semantic.DeepEqual(a.Spec, b.Spec) },
	Conditions: func(c *ces) *[]metav1.Condition { return &c.Status.Conditions },
	Status:     func(c *ces) any { return c.Status },
	SetStatus: func(c *ces, name string, ok []string, failed []fanout.Failure) {
		c.Status.ExternalSecretName, c.Status.ProvisionedNamespaces, c.Status.FailedNamespaces = name, ok, fanout.Failures(failed)
	},
	Interval: func(c *ces) time.Duration { return fanout.Every(c.Spec.RefreshInterval) },
}

func esName(c *ces) string {
	if c.Spec.ExternalSecretName != "" {
		return c.Spec.ExternalSecretName
	}
	return c.Name
}
