package template

import (
	"reflect"
	"strconv"
	"strings"
)

// maxWidth bounds every width, precision and argument index of a printf
// directive: `printf "%999999999d" 1` would allocate a GiB.
const maxWidth = 10_000

// checkPrintf checks printf format args... before fmt allocates. It refuses
// widths and precisions above maxWidth, those given by `*` (the number would
// come from a value), and a format whose estimate exceeds maxTransient. The
// estimate counts, for each directive, its width and precision and four
// times its argument (%q and %x may quadruple a string): a format repeating
// `%[1]s` a thousand times is caught, not only wide ones.
func checkPrintf(a []reflect.Value) error {
	format, args := a[0].String(), a[1]
	est, next := len(format), 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		at, pad, index, err := directive(format, i+1)
		if err != nil {
			return err
		}
		i = at
		if at >= len(format) || format[at] == '%' {
			est += pad
			continue
		}
		if index > 0 {
			next = index - 1
		}
		arg := 0
		if next < args.Len() {
			arg = size(args.Index(next), 0, maxTransient)
		}
		next++
		if est += pad + 4*arg; est > maxTransient {
			return tooLarge("printf")
		}
	}
	if est > maxTransient {
		return tooLarge("printf")
	}
	return nil
}

// directive reads one printf directive from just after its '%': flags,
// [n] argument indexes, width, '.', precision. It returns the position of
// the verb, the sum of width and precision, and the last argument index.
func directive(f string, i int) (at, pad, index int, err error) {
	for ; i < len(f); i++ {
		switch c := f[i]; {
		case strings.IndexByte("+-# 0.", c) >= 0:
		case c == '*':
			return 0, 0, 0, limitf("printf widths and precisions given by * are not allowed")
		case c == '[':
			end := strings.IndexByte(f[i:], ']')
			if end < 0 {
				return i, pad, index, nil // fmt reports %!(BADINDEX)
			}
			if index, err = number(f[i+1 : i+end]); err != nil {
				return 0, 0, 0, err
			}
			i += end
		case c >= '1' && c <= '9':
			end := i
			for end < len(f) && f[end] >= '0' && f[end] <= '9' {
				end++
			}
			n, err := number(f[i:end])
			if err != nil {
				return 0, 0, 0, err
			}
			pad += n
			i = end - 1
		default:
			return i, pad, index, nil
		}
	}
	return len(f), pad, index, nil
}

// number reads a width, precision or index. What is not a number passes:
// fmt prints %!(BADINDEX) for it.
func number(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxWidth {
		return 0, limitf("printf widths, precisions and indexes are limited to %d", maxWidth)
	}
	return n, nil
}
