package externalsecret

import (
	"context"
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestSync_ReadsKVv2IntoTheTargetSecret(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name   string
		remote []map[string]any // versions written in order
		es     func(key string) esOpt
		want   map[string]string
	}{{
		name:   "copies a property into the Secret",
		remote: []map[string]any{{"username": "app", "password": leak.Secret("kv2-property-pw")}},
		es:     func(key string) esOpt { return withData("password", key, "password") },
		want:   map[string]string{"password": "kv2-property-pw"},
	}, {
		name:   "reads a nested property with a JSON path",
		remote: []map[string]any{{"db": map[string]any{"password": leak.Secret("nested-pw"), "port": 5432}}},
		es:     func(key string) esOpt { return withData("pw", key, "db.password") },
		want:   map[string]string{"pw": "nested-pw"},
	}, {
		name:   "prefers a top-level key that contains a dot over a path",
		remote: []map[string]any{{"tls.crt": leak.Secret("dotted-key-value"), "tls": map[string]any{"crt": "wrong"}}},
		es:     func(key string) esOpt { return withData("crt", key, "tls.crt") },
		want:   map[string]string{"crt": "dotted-key-value"},
	}, {
		name:   "writes a non-string property as JSON",
		remote: []map[string]any{{"cfg": map[string]any{"port": 5432}}},
		es:     func(key string) esOpt { return withData("cfg", key, "cfg") },
		want:   map[string]string{"cfg": `{"port":5432}`},
	}, {
		name:   "writes the whole secret as JSON without a property",
		remote: []map[string]any{{"a": leak.Secret("whole-a")}},
		es:     func(key string) esOpt { return withData("all", key, "") },
		want:   map[string]string{"all": `{"a":"whole-a"}`},
	}, {
		name:   "pins a KV v2 version",
		remote: []map[string]any{{"v": leak.Secret("version-one")}, {"v": leak.Secret("version-two")}},
		es: func(key string) esOpt {
			return func(es *v1alpha1.ExternalSecret) {
				withData("v", key, "v")(es)
				es.Spec.Data[0].RemoteRef.Version = "1"
			}
		},
		want: map[string]string{"v": "version-one"},
	}, {
		name:   "decodes a Base64 value",
		remote: []map[string]any{{"b64": testBase64(leak.Secret("decoded-value"))}},
		es: func(key string) esOpt {
			return func(es *v1alpha1.ExternalSecret) {
				withData("plain", key, "b64")(es)
				es.Spec.Data[0].RemoteRef.DecodingStrategy = v1alpha1.DecodingStrategyBase64
			}
		},
		want: map[string]string{"plain": "decoded-value"},
	}, {
		name:   "extracts every property with dataFrom, nested values as JSON",
		remote: []map[string]any{{"user": "svc", "pass": leak.Secret("extract-pw"), "opts": map[string]any{"tls": true}}},
		es: func(key string) esOpt {
			return func(es *v1alpha1.ExternalSecret) {
				es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: key}}}
			}
		},
		want: map[string]string{"user": "svc", "pass": "extract-pw", "opts": `{"tls":true}`},
	}, {
		name:   "lets data win over dataFrom for the same key",
		remote: []map[string]any{{"user": "from-extract", "alt": "from-data"}},
		es: func(key string) esOpt {
			return func(es *v1alpha1.ExternalSecret) {
				es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: key}}}
				withData("user", key, "alt")(es)
			}
		},
		want: map[string]string{"user": "from-data", "alt": "from-data"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			path := kvPath(t, "app")
			for _, v := range tc.remote {
				putKV(t, path, v)
			}
			createES(t, newES(ns, "app", "vault", tc.es(path[len("secret/"):])))
			es := waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
			g.Expect(secretData(t, ns, "app")).To(Equal(tc.want))
			g.Expect(es.Status.Binding.Name).To(Equal("app"))
			g.Expect(es.Status.RefreshTime.IsZero()).To(BeFalse())
		})
	}
}

func TestSync_ReadsKVv1(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ctx := testCtx(t)
	g.Expect(env.EnableOnce(ctx, "kv", "kv1", map[string]any{"options": map[string]any{"version": "1"}})).To(Succeed())
	_, err := env.Write(ctx, "kv1/app", map[string]any{"token": leak.Secret("kv1-token")})
	g.Expect(err).NotTo(HaveOccurred())
	ns := newNamespace(t)
	kv1 := "kv1"
	tokenStore(t, ns, "vault", func(v *v1alpha1.VaultProvider) { v.Path, v.Version = &kv1, v1alpha1.VaultKVStoreV1 })
	createES(t, newES(ns, "app", "vault", withData("token", "app", "token")))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{"token": "kv1-token"}))
}

func TestSync_StoreWithoutPathTakesTheMountFromTheKey(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault", func(v *v1alpha1.VaultProvider) { v.Path = nil })
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("mount-from-key")})
	createES(t, newES(ns, "app", "vault", withData("k", path, "k")))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	g.Expect(secretData(t, ns, "app")).To(Equal(map[string]string{"k": "mount-from-key"}))
}

func TestSync_AppliesTemplateTypeAndMetadata(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "reg")
	putKV(t, path, map[string]any{"cfg": leak.Secret(`{"auths":{}}`)})
	createES(t, newES(ns, "reg", "vault", withData(".dockerconfigjson", path[len("secret/"):], "cfg"), func(es *v1alpha1.ExternalSecret) {
		es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Type: "kubernetes.io/dockerconfigjson",
			Metadata: v1alpha1.ExternalSecretTemplateMetadata{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "x"}}}
	}))
	waitReady(t, ns, "reg", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	s := getSecret(t, ns, "reg")
	g.Expect(string(s.Type)).To(Equal("kubernetes.io/dockerconfigjson"))
	g.Expect(s.Labels).To(HaveKeyWithValue("team", "a"))
	g.Expect(s.Annotations).To(HaveKeyWithValue("note", "x"))
	_ = context.Background()
}

func TestSync_FetchesCustomMetadataWithMetadataPolicyFetch(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("data-not-metadata")})
	rel := path[len("secret/"):]
	_, err := env.Write(context.Background(), "secret/metadata/"+rel, map[string]any{"custom_metadata": map[string]any{"owner": "team-a", "tier": "1"}})
	g.Expect(err).NotTo(HaveOccurred())
	createES(t, newES(ns, "app", "vault", withData("owner", rel, "owner"), withData("all", rel, ""), func(es *v1alpha1.ExternalSecret) {
		for i := range es.Spec.Data {
			es.Spec.Data[i].RemoteRef.MetadataPolicy = "Fetch"
		}
	}))
	waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	data := secretData(t, ns, "app")
	g.Expect(data).To(HaveKeyWithValue("owner", "team-a"))
	// As in ESO: the custom metadata and created_time, current_version and
	// delete_version_after, all as strings.
	var all map[string]any
	g.Expect(json.Unmarshal([]byte(data["all"]), &all)).To(Succeed())
	g.Expect(all).To(HaveLen(5))
	g.Expect(all).To(HaveKeyWithValue("owner", "team-a"))
	g.Expect(all).To(HaveKeyWithValue("tier", "1"))
	g.Expect(all).To(HaveKeyWithValue("current_version", "1"))
	g.Expect(all).To(HaveKeyWithValue("delete_version_after", "0s"))
	g.Expect(all).To(HaveKeyWithValue("created_time", BeAssignableToTypeOf("")))
}
