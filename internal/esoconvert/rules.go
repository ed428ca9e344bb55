package esoconvert

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/template"
)

// rename maps the ESO fields whose meaning baosync has under another name
// or shape.
func (c *conversion) rename() {
	if auth := c.vaultAuth(); auth != nil {
		// ESO names the role of cert auth vaultRole; baosync calls it role.
		rename(c.root, auth.child("cert").child("vaultRole"), "role")
	}
	if c.isStore() {
		c.storeRefreshInterval()
	}
	if c.kind == "ClusterExternalSecret" {
		c.namespaceSelector()
	}
	if es := c.esSpec(); es != nil {
		p := append(es, step{key: "target"}, step{key: "template"}).child("engineVersion")
		if n := at(c.root, p); scalarString(n) == "v1" {
			n.Value = "v2"
			c.warn(p, "template engineVersion v1 is not supported; set to v2 (Go templates with sprig): check the templates")
		}
	}
}

// vaultAuth is where the OpenBao/Vault auth of the object lives: a store's,
// a VaultDynamicSecret's or a ClusterGenerator's; nil for other kinds.
func (c *conversion) vaultAuth() fieldPath {
	switch {
	case c.isStore():
		return path("spec", "provider", "vault", "auth")
	case c.kind == "VaultDynamicSecret":
		return path("spec", "provider", "auth")
	case c.kind == "ClusterGenerator":
		return path("spec", "generator", "vaultDynamicSecretSpec", "provider", "auth")
	}
	return nil
}

// storeRefreshInterval turns a store refreshInterval written as a duration
// ("5m") into the seconds both ESO's and baosync's schemas expect.
func (c *conversion) storeRefreshInterval() {
	n := at(c.root, path("spec", "refreshInterval"))
	if n == nil || n.Kind != yaml.ScalarNode {
		return
	}
	if _, err := strconv.Atoi(n.Value); err == nil {
		return
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || d < 0 {
		return // the type check reports it
	}
	n.Value, n.Tag, n.Style = strconv.Itoa(int(d/time.Second)), "!!int", 0
}

// namespaceSelector moves the singular selector of older
// ClusterExternalSecrets into the list baosync (and ESO today) use.
func (c *conversion) namespaceSelector() {
	spec := at(c.root, path("spec"))
	key, sel := lookup(spec, "namespaceSelector")
	if sel == nil {
		return
	}
	_, list := lookup(spec, "namespaceSelectors")
	if list == nil {
		key.Value = "namespaceSelectors"
		wrapped := *sel
		*sel = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{&wrapped}}
		return
	}
	if list.Kind == yaml.SequenceNode {
		list.Content = append(list.Content, sel)
		remove(c.root, path("spec", "namespaceSelector"))
	}
}

// refuse fails the objects whose conversion would apply but behave
// differently, or not apply at all.
func (c *conversion) refuse() {
	if c.isStore() {
		// auth.ldap carries over as it is; without secretRef ESO cannot log in
		// either, and baosync's CRD requires it.
		if p := path("spec", "provider", "vault", "auth", "ldap"); at(c.root, p) != nil && at(c.root, p.child("secretRef")) == nil {
			c.fail(p.child("secretRef"), "auth.ldap needs secretRef, the Secret holding the LDAP password")
		}
	}
	if c.kind == "ClusterSecretStore" {
		c.refuseReferentSecrets()
	}
	if es := c.esSpec(); es != nil {
		if from := at(c.root, es.child("dataFrom")); from != nil && from.Kind == yaml.SequenceNode {
			for i := range from.Content {
				c.generatorRef(es.child("dataFrom").item(i).child("sourceRef").child("generatorRef"))
			}
		}
	}
	if ps := c.pushSpec(); ps != nil {
		c.refusePushSelectors(ps)
		c.generatorRef(ps.child("selector").child("generatorRef"))
	}
}

// clusterSecretRefs are the Secret (and ConfigMap) references of a store,
// below spec.provider.vault, that ESO resolves in the ExternalSecret's
// namespace when they name none ("referent authentication").
var clusterSecretRefs = []fieldPath{
	path("auth", "tokenSecretRef"), path("auth", "appRole", "roleRef"), path("auth", "appRole", "secretRef"),
	path("auth", "kubernetes", "secretRef"), path("auth", "userPass", "secretRef"), path("auth", "ldap", "secretRef"),
	path("auth", "jwt", "secretRef"), path("auth", "cert", "clientCert"), path("auth", "cert", "secretRef"),
	path("caProvider"), path("tls", "certSecretRef"), path("tls", "keySecretRef"),
}

// refuseReferentSecrets fails a ClusterSecretStore whose Secret references
// name no namespace: baosync never reads a store's credentials from the
// namespace of the object using it (its tenant would choose them). A
// ServiceAccount without a namespace converts: each namespace logs in as
// itself, as in ESO.
func (c *conversion) refuseReferentSecrets() {
	vault := path("spec", "provider", "vault")
	for _, rel := range clusterSecretRefs {
		p := append(append(fieldPath{}, vault...), rel...)
		if ref := at(c.root, p); ref != nil && scalarString(at(ref, path("namespace"))) == "" {
			c.fail(p.child("namespace"), "a ClusterSecretStore Secret reference without a namespace (ESO's referent authentication) is not served: "+
				"name the namespace, or log each namespace in as itself with a ServiceAccount without a namespace or with spec.tenancy (docs/multi-tenancy.md)")
		}
	}
}

// generatorKinds are the generator kinds baosync has.
var generatorKinds = map[string]bool{"Password": true, "UUID": true, "VaultDynamicSecret": true, "ClusterGenerator": true}

// generatorRef points a reference to one of ESO's generators at baosync's
// generator of the same kind, and fails a kind baosync does not have.
func (c *conversion) generatorRef(p fieldPath) {
	ref := at(c.root, p)
	if ref == nil {
		return
	}
	if kind := scalarString(at(ref, path("kind"))); !generatorKinds[kind] {
		c.fail(p.child("kind"), fmt.Sprintf("baosync has no %s generator (only Password, UUID, VaultDynamicSecret and ClusterGenerator)", kind))
		return
	}
	if av := at(ref, path("apiVersion")); av != nil && strings.Contains(av.Value, "external-secrets.io/") {
		av.Value = v1alpha1.GroupVersion.String()
	}
}

// refusePushSelectors fails PushSecrets that select Secrets or stores by
// label only: baosync pushes one named Secret to named stores.
func (c *conversion) refusePushSelectors(ps fieldPath) {
	sel := ps.child("selector").child("secret")
	if at(c.root, sel.child("selector")) != nil && scalarString(at(c.root, sel.child("name"))) == "" {
		c.fail(sel.child("selector"), "baosync pushes one Secret named by selector.secret.name; write one PushSecret per Secret")
	}
	refs := at(c.root, ps.child("secretStoreRefs"))
	if refs == nil || refs.Kind != yaml.SequenceNode {
		return
	}
	for i := range refs.Content {
		p := ps.child("secretStoreRefs").item(i)
		if at(c.root, p.child("labelSelector")) != nil && scalarString(at(c.root, p.child("name"))) == "" {
			c.fail(p.child("labelSelector"), "baosync pushes to stores named in secretStoreRefs; name each store")
		}
	}
}

// defaults are values ESO's CRDs and webhooks write into every object
// (exported manifests carry them), which mean what baosync does anyway.
var defaults = map[string]string{
	"conversionStrategy": "Default|None",
	"decodingStrategy":   "None",
	"metadataPolicy":     "None",
	"nullBytePolicy":     "Ignore",
	"engineVersion":      "v2",
	"mergePolicy":        "Replace",
	"deletionPolicy":     "None|Retain",
	"updatePolicy":       "Replace",
	"creationPolicy":     "Owner",
}

// benignDefault reports a dropped field whose value changes nothing.
func benignDefault(p fieldPath, v any) bool {
	if isEmpty(v) {
		return true
	}
	if b, ok := v.(bool); ok && !b {
		return true // false is every boolean's default
	}
	s, ok := v.(string)
	want, known := defaults[p[len(p)-1].key]
	if !ok || !known {
		return false
	}
	for _, d := range strings.Split(want, "|") {
		if s == d {
			return true
		}
	}
	return false
}

// reasons say why a dropped field matters, by its last key.
var reasons = map[string]string{
	"retrySettings": "baosync retries failed calls with its own back-off",
	"labelSelector": "baosync pushes to the named store only; stores matched by the label selector get nothing",
	"selector":      "baosync pushes the Secret named by selector.secret.name only",
	"generatorRef":  "ESO does not implement generatorRef on a data entry either (deprecated there)",
}

// refusals are ESO fields baosync does not serve whose loss would change what
// the object does, by their last key: the object is not converted.
var refusals = map[string]string{
	"iam": "baosync has no AWS IAM auth for OpenBao/Vault: log in with Kubernetes, JWT, AppRole, userpass, LDAP, cert or a token",
	"gcp": "baosync has no GCP auth for OpenBao/Vault: log in with Kubernetes, JWT, AppRole, userpass, LDAP, cert or a token",
	"merge": "baosync has no rewrite merge (ESO v2 merges the values of the matched keys into one): " +
		"read the keys separately, or join them with a template",
	"manifest": "baosync writes Secrets only, not the resource of target.manifest: use a Secret target " +
		"(the workload can read it through a projected volume)",
	"template": "baosync does not template a PushSecret's Secret before pushing it: render the values into the Secret first " +
		"(an ExternalSecret's target.template can write it) and push that",
	"finalizers": "baosync puts no finalizers on a Secret: with one, the Secret's deletion hangs until some other controller removes it; " +
		"remove target.template.metadata.finalizers (or add the finalizer with the controller that removes it)",
}

// refusedReason is the refusal of a dropped field, "" when dropping it is a
// warning.
func refusedReason(p fieldPath) string {
	if r, ok := refusals[p[len(p)-1].key]; ok {
		return r
	}
	return ""
}

// droppedReason is the message for a dropped field.
func droppedReason(p fieldPath) string {
	if len(p) == 4 && p[0].key == "spec" && (p[1].key == "data" || p[1].key == "dataTo") && p[3].key == "metadata" {
		return "ESO's Vault and OpenBao providers push no per-entry metadata either; dropped"
	}
	for i := len(p) - 1; i >= 0; i-- {
		if r, ok := reasons[p[i].key]; ok {
			return r + "; dropped"
		}
	}
	return "has no baosync meaning; dropped"
}

// unknownFunctions lists the functions a template calls that baosync's
// template engine lacks.
var unknownFunctions = template.UnknownFunctions

// checkTemplates warns about template functions baosync lacks: the sync
// would fail with TemplateError.
func (c *conversion) checkTemplates() {
	es := c.esSpec()
	if es == nil {
		return
	}
	tpl := append(es, step{key: "target"}, step{key: "template"})
	if data := at(c.root, tpl.child("data")); data != nil && data.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(data.Content); i += 2 {
			c.checkTemplate(tpl.child("data").child(data.Content[i].Value), data.Content[i+1])
		}
	}
	if from := at(c.root, tpl.child("templateFrom")); from != nil && from.Kind == yaml.SequenceNode {
		for i := range from.Content {
			p := tpl.child("templateFrom").item(i).child("literal")
			c.checkTemplate(p, at(c.root, p))
		}
	}
}

func (c *conversion) checkTemplate(p fieldPath, n *yaml.Node) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return
	}
	if names := unknownFunctions(n.Value); len(names) > 0 {
		c.warn(p, fmt.Sprintf("uses %s, which baosync's templates lack: the sync will fail with TemplateError", strings.Join(names, ", ")))
	}
}
