package template

import (
	"fmt"
	"reflect"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// guard is one template function with what bounds its cost: the units it
// takes from the expensive budget and a check of its arguments that refuses
// what would allocate too much before it runs.
type guard struct {
	name   string
	fn     reflect.Value
	typ    reflect.Type
	errOut bool
	units  int
	pre    func(args []reflect.Value) error
}

// guards holds every function a template may call, and parseNames their
// names for the parser. Both are built once: an evaluation binds only the
// guards its template uses (see budget.funcs).
var guards, parseNames = newGuards()

// builtinNames are text/template's builtins, which the parser must know
// (it checks for a non-nil entry). Those that allocate are overridden in
// baseFuncs and guarded; the others (and, or, not, len, index, eq, …) work
// within their arguments' size.
var builtinNames = map[string]any{
	"and": true, "call": true, "html": true, "index": true, "slice": true, "js": true,
	"len": true, "not": true, "or": true, "print": true, "printf": true, "println": true,
	"urlquery": true, "eq": true, "ge": true, "gt": true, "le": true, "lt": true, "ne": true,
}

// expensiveUnits are the functions that cost far more than their size
// suggests, in units of maxExpensive. An RSA-4096 key takes seconds on a
// busy node; derivePassword's scrypt allocates 32 MiB, so one call per
// evaluation keeps the heap within that.
var expensiveUnits = map[string]int{
	"genPrivateKey": 2, "derivePassword": maxExpensive,
	"genCA": 1, "genCAWithKey": 1, "genSelfSignedCert": 1, "genSelfSignedCertWithKey": 1,
	"genSignedCert": 1, "genSignedCertWithKey": 1, "bcrypt": 1, "htpasswd": 1,
	"pkcs12key": 1, "pkcs12keyPass": 1, "pkcs12cert": 1, "pkcs12certPass": 1,
	"pemToPkcs12": 1, "pemToPkcs12Pass": 1, "fullPemToPkcs12": 1, "fullPemToPkcs12Pass": 1,
	"pemTruststoreToPKCS12": 1, "pemTruststoreToPKCS12Pass": 1,
	"rsaDecrypt": 1, "jwkPublicKeyPem": 1, "jwkPrivateKeyPem": 1,
}

// baseFuncs are sprig's text functions without those that read the
// operator's environment or reach the network, the PKI helpers, and the
// builtins that allocate, so that they are guarded too (text/template lets a
// FuncMap override a builtin; these have the builtins' own implementations).
func baseFuncs() map[string]any {
	f := sprig.TxtFuncMap()
	for _, name := range []string{"env", "expandenv", "getHostByName"} {
		delete(f, name)
	}
	for name, fn := range pkiFuncs {
		f[name] = fn
	}
	for name, fn := range esoFuncs {
		f[name] = fn
	}
	f["print"], f["printf"], f["println"] = fmt.Sprint, fmt.Sprintf, fmt.Sprintln
	f["html"], f["js"], f["urlquery"] = template.HTMLEscaper, template.JSEscaper, template.URLQueryEscaper
	return f
}

func newGuards() (map[string]*guard, map[string]any) {
	fs := baseFuncs()
	gs := make(map[string]*guard, len(fs))
	for name, fn := range fs {
		v := reflect.ValueOf(fn)
		gs[name] = &guard{name: name, fn: v, typ: v.Type(), errOut: v.Type().NumOut() == 2,
			units: expensiveUnits[name], pre: prechecks[name]}
	}
	return gs, fs
}

// bind returns g as a function of g's own type, so that text/template still
// checks and converts the arguments, with every call charged to b.
func (g *guard) bind(b *budget) any {
	return reflect.MakeFunc(g.typ, func(args []reflect.Value) []reflect.Value {
		return g.call(b, args)
	}).Interface()
}

// call reports a refusal the way text/template expects: in the error result
// when the function has one, else by panicking with the error, which
// text/template's safeCall recovers and wraps with %w.
func (g *guard) call(b *budget, args []reflect.Value) []reflect.Value {
	out, err := g.run(b, args)
	if err == nil {
		return out
	}
	if g.errOut {
		return []reflect.Value{reflect.Zero(g.typ.Out(0)), reflect.ValueOf(&err).Elem()}
	}
	panic(err)
}

func (g *guard) run(b *budget, args []reflect.Value) ([]reflect.Value, error) {
	if err := b.tick(); err != nil {
		return nil, err
	}
	if g.units > 0 {
		b.session.expensive -= g.units
		if b.session.expensive < 0 {
			return nil, errExpensive
		}
	}
	if argsSize(args) > maxValue {
		return nil, limitf("the arguments of %s are larger than %d bytes or nested deeper than %d", g.name, maxValue, maxNesting)
	}
	if g.pre != nil {
		if err := g.pre(args); err != nil {
			return nil, err
		}
	}
	out, err := g.invoke(args)
	if err != nil {
		return nil, err
	}
	n := size(out[0], 0, maxValue+1)
	if n > maxValue {
		return nil, limitf("the result of %s is larger than %d bytes or nested deeper than %d", g.name, maxValue, maxNesting)
	}
	return out, b.spend(n)
}

// invoke calls the function. Its failure, returned or panicked, becomes a
// callError, which drops the function's message: it may quote an argument.
func (g *guard) invoke(args []reflect.Value) (out []reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &callError{fn: g.name, msg: redacted}
		}
	}()
	if g.typ.IsVariadic() {
		out = g.fn.CallSlice(args)
	} else {
		out = g.fn.Call(args)
	}
	if g.errOut && !out[1].IsNil() {
		return nil, newCallError(g.name, out[1].Interface().(error))
	}
	return out, nil
}

// argsSize is the measured size of all arguments, stopping past maxValue.
func argsSize(args []reflect.Value) int {
	n := 0
	for _, a := range args {
		n += size(a, 0, maxValue+1-n)
		if n > maxValue {
			break
		}
	}
	return n
}

// size estimates the bytes v holds as an encoder would write them: a value
// referenced twice counts twice, so that a list aliasing one big map a
// thousand times is as large as its JSON. Each list or map entry counts 16
// bytes or more, so that a list of a million empty strings is large too.
// Counting stops past limit, which also ends cycles; values nested deeper
// than maxNesting count as limit+1.
func size(v reflect.Value, depth, limit int) int {
	switch v.Kind() {
	case reflect.Invalid:
		return 0
	case reflect.String:
		return v.Len()
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return size(v.Elem(), depth, limit)
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Len()
		}
	case reflect.Map, reflect.Struct:
	default:
		return 8
	}
	if depth >= maxNesting {
		return limit + 1
	}
	return sizeOf(v, depth+1, limit)
}

// sizeOf measures the entries of a list, map or struct.
func sizeOf(v reflect.Value, depth, limit int) int {
	n := 0
	switch v.Kind() {
	case reflect.Map:
		it := v.MapRange()
		for n <= limit && it.Next() {
			n += 32 + size(it.Key(), depth, limit-n)
			n += size(it.Value(), depth, limit-n)
		}
	case reflect.Struct:
		// Unexported fields (time.Time's location, semver's parts) are
		// counted flat: a template cannot reach them, and whatever built
		// them had its arguments checked.
		for i := 0; i < v.NumField() && n <= limit; i++ {
			if f := v.Field(i); f.CanInterface() {
				n += size(f, depth, limit-n)
			} else {
				n += 8
			}
		}
	default:
		for i := 0; i < v.Len() && n <= limit; i++ {
			n += 16 + size(v.Index(i), depth, limit-n)
		}
	}
	return n
}
