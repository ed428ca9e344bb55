package esoconvert

import (
	"fmt"
)

// storeKey names a store: namespace is empty for a ClusterSecretStore.
type storeKey struct {
	kind, namespace, name string
}

// checkStoreRefs warns about converted objects that refer to a store of the
// same input that was not converted: they would report StoreNotFound.
func checkStoreRefs(results []*result) {
	missing := map[storeKey]bool{}
	for _, r := range results {
		if c := r.conv; c != nil && c.isStore() && (c.skipped || c.failed) {
			missing[c.storeKey()] = true
		}
	}
	if len(missing) == 0 {
		return
	}
	for _, r := range results {
		c := r.conv
		if c == nil || c.skipped || c.failed {
			continue
		}
		for _, ref := range c.storeRefs() {
			if missing[ref.key] {
				r.warnings = append(r.warnings, Warning{Object: c.name, Message: fmt.Sprintf(
					"field %s: refers to %s %s, which was not converted (see its warning): this object will report StoreNotFound",
					ref.path, ref.key.kind, ref.key.name)})
			}
		}
	}
}

func (c *conversion) storeKey() storeKey {
	if c.kind == "ClusterSecretStore" {
		return storeKey{kind: c.kind, name: c.objName}
	}
	return storeKey{kind: c.kind, namespace: c.namespace, name: c.objName}
}

// storeRef is a reference to a store and where it is written.
type storeRef struct {
	path fieldPath
	key  storeKey
}

// storeRefs lists the stores the object refers to. A ClusterExternalSecret's
// (or ClusterPushSecret's) SecretStore lives in every selected namespace, so
// only its cluster references are checked.
func (c *conversion) storeRefs() []storeRef {
	var refs []storeRef
	add := func(p fieldPath) {
		n := at(c.root, p)
		name := scalarString(at(n, path("name")))
		if name == "" {
			return
		}
		k := storeKey{kind: scalarString(at(n, path("kind"))), namespace: c.namespace, name: name}
		if k.kind == "" {
			k.kind = "SecretStore"
		}
		if k.kind == "ClusterSecretStore" {
			k.namespace = ""
		} else if c.kind == "ClusterExternalSecret" || c.kind == "ClusterPushSecret" {
			return
		}
		refs = append(refs, storeRef{path: p, key: k})
	}
	if es := c.esSpec(); es != nil {
		add(es.child("secretStoreRef"))
		for _, list := range []string{"data", "dataFrom"} {
			if seq := at(c.root, es.child(list)); seq != nil {
				for i := range seq.Content {
					add(es.child(list).item(i).child("sourceRef").child("storeRef"))
				}
			}
		}
	}
	if ps := c.pushSpec(); ps != nil {
		if list := at(c.root, ps.child("secretStoreRefs")); list != nil {
			for i := range list.Content {
				add(ps.child("secretStoreRefs").item(i))
			}
		}
	}
	return refs
}
