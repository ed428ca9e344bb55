package esocompat

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// ESO's API groups, as External Secrets Operator v1.3 installs them.
const (
	Group          = "external-secrets.io"
	GeneratorGroup = "generators.external-secrets.io"
)

// kind is one of ESO's kinds that the compatible mode serves.
type kind struct {
	gvk schema.GroupVersionKind
	// newMirror returns an empty baosync object of the mirror's kind.
	newMirror func() client.Object
	// cluster: cluster-scoped, served only by a cluster-wide operator.
	cluster bool
	// optional: served only when ESO's CRD is installed (ESO v2's kinds,
	// and ESO's generators, which its chart can leave out).
	optional bool
	// status maps the mirror's status onto ESO's shape for this kind; nil for
	// kinds without a status (generators).
	status func(mirror client.Object) *esoStatus
	// metric is the subsystem of ESO's status_condition gauge for this kind,
	// "" for none.
	metric string
	// clears are the status fields the mirror's status may empty: removed
	// from the ESO object's status then, not left stale.
	clears []string
}

func gvk(group, version, name string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: name}
}

// Kinds are the ESO kinds served, stores first: a store's mirror should exist
// before the ExternalSecrets that use it are mirrored.
var kinds = []kind{
	{gvk: gvk(Group, "v1", "SecretStore"), newMirror: func() client.Object { return &v1alpha1.SecretStore{} },
		status: storeStatus, metric: "secretstore", clears: []string{"capabilities"}},
	{gvk: gvk(Group, "v1", "ClusterSecretStore"), newMirror: func() client.Object { return &v1alpha1.ClusterSecretStore{} },
		cluster: true, status: storeStatus, metric: "clustersecretstore", clears: []string{"capabilities"}},
	{gvk: gvk(Group, "v1", "ExternalSecret"), newMirror: func() client.Object { return &v1alpha1.ExternalSecret{} },
		status: externalSecretStatus, metric: "externalsecret", clears: []string{"binding"}},
	{gvk: gvk(Group, "v1", "ClusterExternalSecret"), newMirror: func() client.Object { return &v1alpha1.ClusterExternalSecret{} },
		cluster: true, status: clusterExternalSecretStatus, metric: "clusterexternalsecret",
		clears: []string{"externalSecretName", "provisionedNamespaces", "failedNamespaces"}},
	{gvk: gvk(Group, "v1alpha1", "PushSecret"), newMirror: func() client.Object { return &v1alpha1.PushSecret{} },
		status: pushSecretStatus, metric: "pushsecret"},
	{gvk: gvk(Group, "v1alpha1", "ClusterPushSecret"), newMirror: func() client.Object { return &v1alpha1.ClusterPushSecret{} },
		cluster: true, optional: true, status: clusterPushSecretStatus, metric: "clusterpushsecret",
		clears: []string{"pushSecretName", "provisionedNamespaces", "failedNamespaces"}},
	{gvk: gvk(GeneratorGroup, "v1alpha1", "Password"), newMirror: func() client.Object { return &v1alpha1.Password{} }},
	{gvk: gvk(GeneratorGroup, "v1alpha1", "UUID"), newMirror: func() client.Object { return &v1alpha1.UUID{} }},
	{gvk: gvk(GeneratorGroup, "v1alpha1", "VaultDynamicSecret"), newMirror: func() client.Object { return &v1alpha1.VaultDynamicSecret{} }},
	{gvk: gvk(GeneratorGroup, "v1alpha1", "ClusterGenerator"), newMirror: func() client.Object { return &v1alpha1.ClusterGenerator{} },
		cluster: true},
}

// isGenerator reports whether k is one of ESO's generator kinds, which are
// optional: ESO's chart can leave their CRDs out.
func (k kind) isGenerator() bool { return k.gvk.Group == GeneratorGroup }

// kindNamed returns the served kind of that name.
func kindNamed(name string) kind {
	for _, k := range kinds {
		if k.gvk.Kind == name {
			return k
		}
	}
	return kind{}
}

// parents are ESO's cluster kinds that make an object per namespace, by the
// kind of what they make.
var parents = map[string]string{"ExternalSecret": "ClusterExternalSecret", "PushSecret": "ClusterPushSecret"}

// isParent reports one of ESO's cluster kinds that make an object per
// namespace.
func isParent(kindName string) bool {
	return kindName == "ClusterExternalSecret" || kindName == "ClusterPushSecret"
}

// esoParent is the ESO cluster kind that made o ("" for none): such an
// object follows its parent, whose mirror makes baosync's own in its place.
func esoParent(o *unstructured.Unstructured) string {
	if p := parents[o.GetKind()]; p != "" && ownedByESO(o, p) {
		return p
	}
	return ""
}

// newESO returns an empty ESO object of this kind.
func (k kind) newESO() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.gvk)
	return u
}

// storeKind returns the served store kind named kindName ("" means
// SecretStore, as in ESO).
func storeKind(kindName string) kind {
	if kindName == "ClusterSecretStore" {
		return kinds[1]
	}
	return kinds[0]
}
