package argocd

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

const (
	discoveryPath = "../../docs/argocd/refresh-discovery.lua"
	actionPath    = "../../docs/argocd/refresh-action.lua"
)

// actionKinds are the kinds the refresh action is installed for.
var actionKinds = []string{"ExternalSecret", "PushSecret"}

// runAction runs script over obj the way Argo CD runs resource actions:
// gopher-lua with the package, base and table libraries and an os module
// holding only date and time; it returns the script's result as JSON.
func runAction(t *testing.T, script string, obj map[string]any) map[string]any {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		L.Push(L.NewFunction(open))
		L.Push(lua.LString(name))
		L.Call(1, 0)
	}
	L.Push(L.NewFunction(lua.OpenOs))
	L.Push(lua.LString(lua.OsLibName))
	L.Call(1, 0)
	full := L.GetGlobal(lua.OsLibName).(*lua.LTable) //nolint:forcetypeassert // OpenOs sets a table
	safe := L.NewTable()
	for _, fn := range []string{"date", "time"} {
		safe.RawSetString(fn, full.RawGetString(fn))
	}
	L.SetGlobal(lua.OsLibName, safe)
	L.PreloadModule(lua.OsLibName, func(L *lua.LState) int { L.Push(safe); return 1 })
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("script: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("script returned %s, want a table", L.Get(-1).Type())
	}
	return fromLua(ret).(map[string]any) //nolint:forcetypeassert // a table with string keys
}

// fromLua converts a Lua table back into JSON-like Go values.
func fromLua(v lua.LValue) any {
	switch x := v.(type) {
	case *lua.LTable:
		if x.MaxN() > 0 {
			var out []any
			x.ForEach(func(_, e lua.LValue) { out = append(out, fromLua(e)) })
			return out
		}
		out := map[string]any{}
		x.ForEach(func(k, e lua.LValue) { out[lua.LVAsString(k)] = fromLua(e) })
		return out
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return float64(x)
	case lua.LBool:
		return bool(x)
	}
	return nil
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRefreshAction_SetsForceSyncToNowAndKeepsTheRest(t *testing.T) {
	script, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, meta := range map[string]string{
		"an object without annotations":    `{"name":"x"}`,
		"an object with other annotations": `{"name":"x","annotations":{"team":"a","baosync.io/force-sync":"old"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			before := time.Now().UTC().Add(-time.Second)
			out := runAction(t, string(script), decode(t, `{"kind":"ExternalSecret","metadata":`+meta+`,"spec":{"refreshInterval":"1h"}}`))
			annotations, _ := out["metadata"].(map[string]any)["annotations"].(map[string]any)
			at, err := time.Parse(time.RFC3339, annotations["baosync.io/force-sync"].(string))
			if err != nil || at.Before(before.Truncate(time.Second)) || at.After(time.Now().UTC().Add(time.Second)) {
				t.Fatalf("force-sync %v (%v), want now in RFC 3339 UTC", annotations["baosync.io/force-sync"], err)
			}
			if strings.Contains(meta, "team") && annotations["team"] != "a" {
				t.Fatalf("other annotations lost: %v", annotations)
			}
			if out["spec"].(map[string]any)["refreshInterval"] != "1h" {
				t.Fatalf("spec changed: %v", out["spec"])
			}
		})
	}
}

func TestRefreshDiscovery_OffersRefreshUnlessBeingDeleted(t *testing.T) {
	script, err := os.ReadFile(discoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	for meta, disabled := range map[string]bool{`{"name":"x"}`: false, `{"name":"x","deletionTimestamp":"2026-01-01T00:00:00Z"}`: true} {
		out := runAction(t, string(script), decode(t, `{"kind":"PushSecret","metadata":`+meta+`}`))
		refresh, ok := out["refresh"].(map[string]any)
		if !ok || refresh["disabled"] != disabled {
			t.Fatalf("discovery for %s: %v, want refresh disabled=%v", meta, out, disabled)
		}
	}
}

// TestDoc_ActionSnippetInstallsTheScripts parses the argocd-cm actions
// example in docs/argocd.md and checks both kinds hold the shipped scripts
// byte for byte.
func TestDoc_ActionSnippetInstallsTheScripts(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(data:\n  resource\\.customizations\\.actions.*?)```\n").FindSubmatch(doc)
	if block == nil {
		t.Fatal("docs/argocd.md has no actions snippet")
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(block[1], &cm); err != nil {
		t.Fatalf("snippet: %v", err)
	}
	discovery, _ := os.ReadFile(discoveryPath)
	action, _ := os.ReadFile(actionPath)
	for _, kind := range actionKinds {
		var actions struct {
			Discovery   string `json:"discovery.lua"`
			Definitions []struct {
				Name   string `json:"name"`
				Action string `json:"action.lua"`
			} `json:"definitions"`
		}
		if err := yaml.Unmarshal([]byte(cm.Data["resource.customizations.actions.baosync.io_"+kind]), &actions); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if actions.Discovery != string(discovery) || len(actions.Definitions) != 1 || actions.Definitions[0].Name != "refresh" ||
			actions.Definitions[0].Action != string(action) {
			t.Errorf("%s: the snippet differs from docs/argocd/refresh-*.lua", kind)
		}
	}
}
