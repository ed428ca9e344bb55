// Package argocd tests the Argo CD health check shipped in docs/argocd: the
// script as Argo CD runs it, and the argocd-cm snippet that installs it.
package argocd

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

const (
	scriptPath = "../../docs/argocd/health.lua"
	docPath    = "../../docs/argocd.md"
)

// kinds are the baosync kinds with a Ready condition; each gets the script.
var kinds = []string{"ExternalSecret", "ClusterExternalSecret", "PushSecret", "SecretStore", "ClusterSecretStore"}

// health runs script over obj (JSON) the way Argo CD does: gopher-lua with only
// the package, base and table libraries, obj as a global table, the returned
// table read for status and message.
func health(t *testing.T, script, obj string) (status, message string) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(obj), &v); err != nil {
		t.Fatalf("object: %v", err)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		L.Push(L.NewFunction(open))
		L.Push(lua.LString(name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, v))
	if err := L.DoString(script); err != nil {
		t.Fatalf("script: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("script returned %s, want a table", L.Get(-1).Type())
	}
	return lua.LVAsString(ret.RawGetString("status")), lua.LVAsString(ret.RawGetString("message"))
}

// toLua converts decoded JSON into Lua values as Argo CD does: objects and
// arrays become tables (arrays 1-based), numbers LNumber.
func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		return lua.LBool(x)
	default:
		return lua.LNil
	}
}

// object is a baosync object of kind at generation 2 with the given status JSON
// and extra metadata fields.
func object(kind, meta, status string) string {
	return `{"apiVersion":"baosync.io/v1alpha1","kind":"` + kind + `","metadata":{"name":"x","generation":2` + meta + `}` + status + `}`
}

func ready(status, reason, msg string, observed int) string {
	obs := ""
	if observed > 0 {
		obs = `,"observedGeneration":` + strconv.Itoa(observed)
	}
	return `,"status":{"conditions":[{"type":"Other","status":"False"},{"type":"Ready","status":"` + status + `","reason":"` + reason + `","message":"` + msg + `"` + obs + `}]}`
}

func TestHealth_FollowsTheReadyCondition(t *testing.T) {
	script, err := os.ReadFile(scriptPath)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, meta, status string
		want, wantMsg      string
	}{
		{"an object without status waits for its first reconcile", "", "",
			"Progressing", "Waiting for baosync to reconcile the KIND"},
		{"an object with conditions but no Ready waits", "", `,"status":{"conditions":[{"type":"Other","status":"True"}]}`,
			"Progressing", "Waiting for baosync to reconcile the KIND"},
		{"Ready=True is healthy with the condition's message", "", ready("True", "SecretSynced", "synced", 2),
			"Healthy", "synced"},
		{"Ready=True without an observed generation is healthy", "", ready("True", "SecretSynced", "synced", 0),
			"Healthy", "synced"},
		{"Ready written for an older generation waits for the current spec", "", ready("True", "SecretSynced", "synced", 1),
			"Progressing", "Waiting for baosync to reconcile generation 2"},
		{"Ready=Unknown is progressing", "", ready("Unknown", "Pending", "checking", 2),
			"Progressing", "checking"},
		{"a configuration error (terminal) is degraded", "", ready("False", "TemplateError", "bad template", 2),
			"Degraded", "TemplateError: bad template"},
		{"a store that cannot log in (waiting) is degraded", "", ready("False", "StoreNotReady", "store s is not ready", 2),
			"Degraded", "StoreNotReady: store s is not ready"},
		{"a missing remote secret (waiting) is degraded", "", ready("False", "RemoteNotFound", "no secret", 2),
			"Degraded", "RemoteNotFound: no secret"},
		{"an unreachable server (transient) is degraded: the Secret may be stale", "", ready("False", "ProviderUnavailable", "dial", 2),
			"Degraded", "ProviderUnavailable: dial"},
		{"a namespace over its share (throttled) clears by itself", "", ready("False", "Throttled", "wait 3s", 2),
			"Progressing", "Throttled: wait 3s"},
		{"an object being deleted is progressing whatever its status", `,"deletionTimestamp":"2026-01-01T00:00:00Z"`, ready("True", "SecretSynced", "synced", 2),
			"Progressing", "KIND is being deleted"},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				status, msg := health(t, string(script), object(kind, tc.meta, tc.status))
				want := strings.ReplaceAll(tc.wantMsg, "KIND", kind)
				if status != tc.want || msg != want {
					t.Fatalf("health %q %q, want %q %q", status, msg, tc.want, want)
				}
			})
		}
	}
}

// TestDoc_SnippetInstallsTheScriptForEveryKind parses the argocd-cm example in
// docs/argocd.md (anchors resolved, as kubectl does) and checks that every kind's
// key holds the shipped script byte for byte.
func TestDoc_SnippetInstallsTheScriptForEveryKind(t *testing.T) {
	script, err := os.ReadFile(scriptPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/argocd.md has no yaml block")
	}
	var cm struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(block), &cm); err != nil {
		t.Fatalf("snippet: %v", err)
	}
	if cm.Kind != "ConfigMap" || len(cm.Data) != len(kinds) {
		t.Fatalf("snippet is a %s with %d keys, want a ConfigMap with %d", cm.Kind, len(cm.Data), len(kinds))
	}
	for _, kind := range kinds {
		key := "resource.customizations.health.baosync.io_" + kind
		if cm.Data[key] != string(script) {
			t.Errorf("%s differs from docs/argocd/health.lua", key)
		}
	}
}
