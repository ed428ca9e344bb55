package template

import (
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Regular expressions. Go's regexp runs in linear time, but that time is the
// size of the compiled program times the input, and the program of a short
// pattern can be large: `(?:x{30}){30}` is 900 instructions in 13 bytes, and
// regexp refuses only programs past 128 MB. Patterns are short in templates:
// cap their length, then their program size times the input.
const (
	// maxPattern bounds the length of a pattern.
	maxPattern = 4 << 10
	// maxRegexWork bounds the program size times the input length, about a
	// second of matching at worst.
	maxRegexWork = 64 << 20
)

// checkRegex refuses a pattern that is too long or too costly for an input
// of n bytes. A pattern that does not parse passes: the function itself
// reports it.
func checkRegex(pattern string, n int) error {
	if len(pattern) > maxPattern {
		return limitf("a regular expression is longer than %d bytes", maxPattern)
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	if progSize(re) > maxRegexWork/(n+1) {
		return limitf("a regular expression is too costly for its input (%d program steps in all)", maxRegexWork)
	}
	return nil
}

// progSize estimates the instructions of a compiled pattern: repetitions
// multiply their body. It saturates at maxRegexWork.
func progSize(re *syntax.Regexp) int {
	n := 1
	switch re.Op {
	case syntax.OpLiteral:
		n = len(re.Rune)
	case syntax.OpRepeat:
		times := max(re.Max, re.Min+1, 1)
		sub := progSize(re.Sub[0])
		if sub > maxRegexWork/times {
			return maxRegexWork
		}
		n += sub * times
	default:
		for _, sub := range re.Sub {
			n += progSize(sub)
		}
	}
	return min(n, maxRegexWork)
}

// regexMatch regex text, regexFind regex text.
func checkRegexArgs(a []reflect.Value) error {
	return checkRegex(a[0].String(), a[1].Len())
}

// regexFindAll regex text n, regexSplit regex text n: a negative n asks for
// every part. Ask for one more than maxParts at most: that many parts
// measure above maxValue, so the result is refused whole, never truncated.
func checkRegexParts(a []reflect.Value) error {
	if n := a[2].Int(); n < 0 || n > maxParts {
		a[2] = reflect.ValueOf(maxParts + 1)
	}
	return checkRegexArgs(a)
}

// regexReplaceAll regex text repl: each $ reference expands to at most its
// match.
func checkRegexExpand(a []reflect.Value) error {
	return checkReplaceAll(a, strings.Count(a[2].String(), "$"))
}

// regexReplaceAllLiteral regex text repl.
func checkRegexLiteral(a []reflect.Value) error {
	return checkReplaceAll(a, 0)
}

// checkReplaceAll estimates a replacement's output from its matches: the
// unmatched text, plus repl per match, plus refs times the matched text.
func checkReplaceAll(a []reflect.Value, refs int) error {
	pattern, text, repl := a[0].String(), a[1].String(), a[2].String()
	if err := checkRegex(pattern, len(text)); err != nil {
		return err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	matches := re.FindAllStringIndex(text, maxParts+1)
	n, matched := len(matches), 0
	for _, m := range matches {
		matched += m[1] - m[0]
	}
	if n > maxParts {
		n, matched = len(text)+1, len(text)
	}
	if grows(len(text)-matched+refs*matched, n, len(repl)) {
		return tooLarge("a regular expression replacement")
	}
	return nil
}
