package template

import (
	"maps"
	"regexp"
	"sort"
	"text/template/parse"
)

// undefined matches text/template's parse error for a function it lacks.
var undefined = regexp.MustCompile(`function "([^"]+)" not defined`)

// UnknownFunctions lists, sorted, the functions text calls that templates
// here do not have (an ESO template being converted, say). A template that
// does not parse for another reason lists what was found before that.
func UnknownFunctions(text string) []string {
	var unknown []string
	funcs := parseNames
	for range 64 { // each round finds one more name
		_, err := parse.Parse("t", text, "", "", funcs, builtinNames)
		if err == nil {
			break
		}
		m := undefined.FindStringSubmatch(err.Error())
		if m == nil {
			break
		}
		if len(unknown) == 0 {
			funcs = maps.Clone(parseNames)
		}
		unknown = append(unknown, m[1])
		funcs[m[1]] = true
	}
	sort.Strings(unknown)
	return unknown
}
