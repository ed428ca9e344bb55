package template

import (
	"reflect"
	"strings"
)

// Amplifiers: functions whose output or work can be far larger than their
// arguments. The generic checks of a guard come too late for them (the
// result would already be allocated), so each is checked before it runs.
const (
	// maxList bounds the lists of until, untilStep and seq.
	maxList = 10_000
	// maxRandom bounds the length asked of rand* functions.
	maxRandom = 10_000
	// maxParts bounds the parts of a split: more would measure above
	// maxValue anyway, since each entry counts 16 bytes.
	maxParts = maxValue / 16
	// maxPairs bounds the comparisons of uniq and without, which compare
	// every element with every other (reflect.DeepEqual each): about a
	// second at worst. uniq takes lists of maxUniq elements.
	maxUniq  = 2_000
	maxPairs = maxUniq * maxUniq
	// maxBound bounds the numbers of untilStep and seq, so that their loops
	// cannot overflow and never end.
	maxBound = 1 << 40
	// maxKeyInput bounds the arguments of the sprig functions that parse a
	// private key and sign with it: RSA signing costs the cube of the key
	// size. 16 KiB holds a CA and a key of RSA-4096 with room to spare; the
	// largest key it can hold signs in about a second.
	maxKeyInput = 16 << 10
)

// prechecks are the amplifier checks, by function name.
var prechecks = map[string]func(args []reflect.Value) error{
	"repeat": checkRepeat, "indent": checkIndent, "nindent": checkIndent,
	"replace": checkReplace, "wrapWith": checkWrapWith, "join": checkJoin,
	"printf": checkPrintf,
	"until":  checkUntil, "untilStep": checkUntilStep, "seq": checkSeq,
	"randAlpha": checkRandom, "randAlphaNum": checkRandom, "randNumeric": checkRandom,
	"randAscii": checkRandom, "randBytes": checkRandom,
	"split": checkSplit, "splitList": checkSplit, "splitn": checkSplitN,
	"uniq": checkUniq, "mustUniq": checkUniq, "without": checkWithout, "mustWithout": checkWithout,
	"fromJson": checkFromJSON, "mustFromJson": checkFromJSON, "fromYaml": checkFromJSON,
	"jwkPublicKeyPem": checkKeyInputFirst, "jwkPrivateKeyPem": checkKeyInputFirst,
	"rsaDecrypt":    checkRSADecrypt,
	"genPrivateKey": checkKeyType,
	"genCAWithKey":  checkKeyInput, "genSelfSignedCertWithKey": checkKeyInput,
	"genSignedCert": checkKeyInput, "genSignedCertWithKey": checkKeyInput, "buildCustomCert": checkKeyInput,
	"regexMatch": checkRegexArgs, "mustRegexMatch": checkRegexArgs,
	"regexFind": checkRegexArgs, "mustRegexFind": checkRegexArgs,
	"regexFindAll": checkRegexParts, "mustRegexFindAll": checkRegexParts,
	"regexSplit": checkRegexParts, "mustRegexSplit": checkRegexParts,
	"regexReplaceAll": checkRegexExpand, "mustRegexReplaceAll": checkRegexExpand,
	"regexReplaceAllLiteral": checkRegexLiteral, "mustRegexReplaceAllLiteral": checkRegexLiteral,
}

func tooLarge(fn string) error {
	return limitf("%s would allocate more than %d bytes", fn, maxTransient)
}

// grows reports whether base + n*each exceeds maxTransient, without overflow.
func grows(base, n, each int) bool {
	if n <= 0 || each <= 0 {
		return base > maxTransient
	}
	return base > maxTransient || n > (maxTransient-base)/each
}

// repeat count str.
func checkRepeat(a []reflect.Value) error {
	if grows(0, int(a[0].Int()), a[1].Len()) {
		return tooLarge("repeat")
	}
	return nil
}

// indent spaces text, nindent spaces text: the pad goes on every line.
func checkIndent(a []reflect.Value) error {
	lines := strings.Count(a[1].String(), "\n") + 2
	if grows(a[1].Len(), lines, int(a[0].Int())) {
		return tooLarge("indent")
	}
	return nil
}

// replace old new src: an empty old matches between every rune.
func checkReplace(a []reflect.Value) error {
	old, repl, src := a[0].String(), a[1].String(), a[2].String()
	if len(repl) <= len(old) {
		return nil
	}
	if grows(len(src), strings.Count(src, old), len(repl)-len(old)) {
		return tooLarge("replace")
	}
	return nil
}

// wrapWith width sep text: a break goes at most every second byte, at
// every space, and every width bytes.
func checkWrapWith(a []reflect.Value) error {
	width, sep, text := max(int(a[0].Int()), 1), a[1].Len(), a[2].String()
	breaks := min(len(text)/2, strings.Count(text, " ")+len(text)/width) + 1
	if grows(len(text), breaks, max(sep, 1)) {
		return tooLarge("wrapWith")
	}
	return nil
}

// join sep list: the separator goes between every two elements.
func checkJoin(a []reflect.Value) error {
	if grows(size(a[1], 0, maxTransient), listLen(a[1]), a[0].Len()) {
		return tooLarge("join")
	}
	return nil
}

// until count: a list of |count| numbers.
func checkUntil(a []reflect.Value) error {
	n := a[0].Int()
	if n > maxList || n < -maxList {
		return limitf("until is limited to %d elements", maxList)
	}
	return nil
}

// untilStep start stop step.
func checkUntilStep(a []reflect.Value) error {
	return checkSteps("untilStep", int(a[0].Int()), int(a[1].Int()), int(a[2].Int()))
}

// seq end, seq start end, seq start step end: sprig turns each form into an
// untilStep; check that one.
func checkSeq(a []reflect.Value) error {
	p := a[0].Interface().([]int)
	switch len(p) {
	case 1:
		return checkSteps("seq", 1, p[0], 1)
	case 2:
		return checkSteps("seq", p[0], p[1], 1)
	case 3:
		return checkSteps("seq", p[0], p[2], p[1])
	}
	return nil
}

// checkSteps bounds the elements of a numeric sequence from start towards
// stop. It counts |stop-start|/|step| whichever the direction: sprig returns
// an empty list for some, and refusing those too is harmless.
func checkSteps(fn string, start, stop, step int) error {
	for _, n := range []int{start, stop, step} {
		if n > maxBound || n < -maxBound {
			return limitf("%s takes numbers within ±%d", fn, maxBound)
		}
	}
	if step == 0 {
		return nil // sprig returns an empty list
	}
	if abs(stop-start)/abs(step) > maxList {
		return limitf("%s is limited to %d elements", fn, maxList)
	}
	return nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// randAlpha count and the like.
func checkRandom(a []reflect.Value) error {
	if a[0].Int() > maxRandom {
		return limitf("random strings are limited to %d characters", maxRandom)
	}
	return nil
}

// split sep text, splitList sep text: an empty sep splits every rune.
func checkSplit(a []reflect.Value) error {
	if strings.Count(a[1].String(), a[0].String()) >= maxParts {
		return limitf("a split is limited to %d parts", maxParts)
	}
	return nil
}

// splitn sep n text.
func checkSplitN(a []reflect.Value) error {
	if n := a[1].Int(); n > 0 && n <= maxParts {
		return nil
	}
	return checkSplit([]reflect.Value{a[0], a[2]})
}

// uniq list compares every element with those kept.
func checkUniq(a []reflect.Value) error {
	if n := listLen(a[0]); n > maxPairs/n {
		return limitf("uniq is limited to lists of %d elements", maxUniq)
	}
	return nil
}

// without list omit... compares every element with every omitted one.
func checkWithout(a []reflect.Value) error {
	if n, m := listLen(a[0]), a[1].Len(); m > 0 && n > maxPairs/m {
		return limitf("without is limited to %d comparisons", maxPairs)
	}
	return nil
}

// fromJson text: decoding boxes every value and makes a map per object,
// tens of bytes for each byte of "[{},{},…]".
func checkFromJSON(a []reflect.Value) error {
	s := a[0].String()
	n := strings.Count(s, ",") + strings.Count(s, ":") + strings.Count(s, "[") + strings.Count(s, "{")
	if grows(len(s), n, 64) {
		return tooLarge("fromJson")
	}
	return nil
}

// jwkPublicKeyPem and jwkPrivateKeyPem take one key: RSA validation costs
// the square of its size.
func checkKeyInputFirst(a []reflect.Value) error {
	if a[0].Len() > maxKeyInput {
		return limitf("the key is larger than %d bytes", maxKeyInput)
	}
	return nil
}

// rsaDecrypt scheme hash in key: the key is bounded like every key input.
func checkRSADecrypt(a []reflect.Value) error {
	if a[3].Len() > maxKeyInput {
		return limitf("the key of rsaDecrypt is larger than %d bytes", maxKeyInput)
	}
	return nil
}

// genPrivateKey type: DSA parameter generation searches for primes for an
// unbounded time; DSA is deprecated anyway.
func checkKeyType(a []reflect.Value) error {
	if a[0].String() == "dsa" {
		return limitf("genPrivateKey does not generate DSA keys")
	}
	return nil
}

func checkKeyInput(a []reflect.Value) error {
	if argsSize(a) > maxKeyInput {
		return limitf("the arguments of a certificate function are larger than %d bytes", maxKeyInput)
	}
	return nil
}

// listLen is the length of a list argument, 1 for anything else.
func listLen(v reflect.Value) int {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return max(v.Len(), 1)
	}
	return 1
}
