package intern

import (
	"reflect"
	"testing"
	"unsafe"
)

// same reports whether a and b share their bytes.
func same(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func TestString_EqualStringsShareOneCopy(t *testing.T) {
	tab := New(10, 16)
	a := tab.String(string([]byte("team-a")))
	b := tab.String(string([]byte("team-a")))
	if a != "team-a" || !same(a, b) {
		t.Fatalf("two equal strings were not shared: %q %q", a, b)
	}
	long := string([]byte("a string longer than sixteen bytes"))
	if got := tab.String(long); !same(got, long) {
		t.Fatal("a string past maxLen must be returned as it is")
	}
}

func TestString_AFullTableStartsOverAndStaysBounded(t *testing.T) {
	tab := New(3, 16)
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		tab.String(s)
	}
	if n := tab.strings.len(); n > 3 {
		t.Fatalf("the table holds %d strings, over its bound of 3", n)
	}
	e := tab.String(string([]byte("e")))
	if !same(e, tab.String(string([]byte("e")))) {
		t.Fatal("after starting over, new strings are shared again")
	}
}

func TestMap_SharesKeysAndValuesAndKeepsTheMap(t *testing.T) {
	tab := New(10, 32)
	a := map[string]string{string([]byte("app")): string([]byte("web")), "x": "1"}
	b := map[string]string{string([]byte("app")): string([]byte("web"))}
	tab.Map(a)
	tab.Map(b)
	if len(a) != 2 || a["app"] != "web" || a["x"] != "1" {
		t.Fatalf("the map changed: %v", a)
	}
	for k, v := range b {
		for k2, v2 := range a {
			if k == k2 && (!same(k, k2) || !same(v, v2)) {
				t.Fatal("equal keys and values of two maps were not shared")
			}
		}
	}
}

func TestMap_LeavesALargeMapAlone(t *testing.T) {
	tab := New(1000, 32)
	m := map[string]string{}
	for i := range maxMapEntries + 1 {
		m[string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	tab.Map(m)
	if tab.strings.len() != 0 {
		t.Fatalf("a map of %d entries was interned: the table holds %d strings", len(m), tab.strings.len())
	}
}

func TestMaps_EqualSmallMapsShareOneMap(t *testing.T) {
	tab := NewMaps(10, New(10, 32))
	in := map[string]string{"baosync.io/managed": "true", "app": "web"}
	a := tab.Shared(in)
	b := tab.Shared(map[string]string{"app": "web", "baosync.io/managed": "true"})
	if sameMap(a, in) {
		t.Fatal("the table keeps a copy of its own, never the map it is given")
	}
	if len(a) != 2 || a["app"] != "web" || a["baosync.io/managed"] != "true" {
		t.Fatalf("the map changed: %v", a)
	}
	if !sameMap(a, b) {
		t.Fatal("two equal maps were not shared")
	}
	c := tab.Shared(map[string]string{"app": "api", "baosync.io/managed": "true"})
	if sameMap(a, c) || c["app"] != "api" {
		t.Fatalf("maps with different values were shared: %v", c)
	}
}

func TestMaps_AnEntryCannotPoseAsTwo(t *testing.T) {
	tab := NewMaps(10, New(10, 64))
	a := tab.Shared(map[string]string{"a": "1b2:c"})
	b := tab.Shared(map[string]string{"a": "1", "b": "c"})
	if sameMap(a, b) || len(b) != 2 {
		t.Fatalf("different maps were shared: %v %v", a, b)
	}
}

func TestMaps_LargeOrLongMapsAreNotKeptAndTheTableStaysBounded(t *testing.T) {
	tab := NewMaps(2, New(10, 8))
	long := map[string]string{"k": "a value past eight bytes"}
	if got := tab.Shared(long); got["k"] != long["k"] || tab.maps.len() != 0 {
		t.Fatal("a map with a long value must come back with its entries, unshared")
	}
	big := map[string]string{}
	for i := range maxSharedMapSize + 1 {
		big[string(rune('a'+i))] = "v"
	}
	if got := tab.Shared(big); len(got) != len(big) || tab.maps.len() != 0 {
		t.Fatal("a map of more than 8 entries must come back with its entries, unshared")
	}
	for _, v := range []string{"1", "2", "3", "4"} {
		tab.Shared(map[string]string{"k": v})
	}
	if n := tab.maps.len(); n > 2 {
		t.Fatalf("the table holds %d maps, over its bound of 2", n)
	}
}

// sameMap reports whether a and b are the same map, not only equal ones.
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestMaps_NeverWritesIntoTheMapItIsGiven(t *testing.T) {
	// A map already shared by cached objects may be handed in again (a
	// transform given the same object twice) while readers use it: under
	// -race, any write into it is a data race.
	tab := NewMaps(2, New(4, 64))
	m := tab.Shared(map[string]string{"baosync.io/managed": "true"})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			for k, v := range m {
				_, _ = k, v
			}
		}
	}()
	for i := range 1000 {
		tab.Shared(map[string]string{"fill": string(rune('a' + i%26))}) // the tables start over
		got := tab.Shared(m)
		if got["baosync.io/managed"] != "true" || len(got) != 1 {
			t.Fatalf("the shared copy differs: %v", got)
		}
	}
	<-done
	big := map[string]string{}
	for i := range maxSharedMapSize + 1 {
		big[string(rune('a'+i))] = "v"
	}
	if got := tab.Shared(big); sameMap(got, big) || len(got) != len(big) {
		t.Fatal("a map too big to share comes back as a copy with the same entries")
	}
}
