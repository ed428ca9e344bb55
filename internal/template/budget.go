package template

import (
	"fmt"
	"reflect"
	"text/template"
	"time"
)

// The limits of one evaluation. Each is far above what an ExternalSecret
// template needs (a few hundred steps, a few KiB) and low enough that the
// operator survives many hostile templates evaluated at once.
const (
	// maxOutput bounds what one template may write.
	maxOutput = 1 << 20
	// maxValue bounds the measured size of every argument and result of a
	// function, and of every value printed.
	maxValue = 1 << 20
	// maxTransient bounds what a function may allocate before its result is
	// checked: amplifiers are refused when their estimate exceeds it.
	maxTransient = 4 * maxValue
	// maxAlloc bounds the sum of the sizes of all function results and of
	// the map sorts of range, per evaluation.
	maxAlloc = 32 << 20
	// maxSteps bounds list entries, range iterations, template calls and
	// function calls, per evaluation.
	maxSteps = 100_000
	// maxExpensive bounds the units of CPU-heavy functions (key generation,
	// password hashing, PKCS#12), per evaluation.
	maxExpensive = 4
	// maxDepth bounds nested template calls; text/template alone allows
	// 100000, whose stack would take hundreds of MiB.
	maxDepth = 100
	// maxNesting bounds the nesting of lists and maps in one value, so that
	// indenting encoders cannot multiply its size.
	maxNesting = 32
	// evalTimeout is the wall-clock time one evaluation may take; it is
	// checked at every step and function call.
	evalTimeout = 2 * time.Second
)

// The names of the functions instrument inserts. They are not in the parse
// function table, so a template that spells one fails to parse: only the
// inserted nodes can call them.
const (
	stepFunc  = "baosyncStep"
	enterFunc = "baosyncEnter"
	leaveFunc = "baosyncLeave"
	outFunc   = "baosyncOut"
	rangeFunc = "baosyncRange"
)

// limitError is a refusal by the budget or by a function's pre-check. Its
// text is built from constants and function names only, never from a value.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// limitf builds a limitError; args must never be values of the evaluation.
func limitf(format string, args ...any) error {
	return &limitError{msg: fmt.Sprintf(format, args...)}
}

var (
	errSteps     = limitf("evaluation budget exceeded: steps (%d)", maxSteps)
	errDeadline  = limitf("evaluation budget exceeded: deadline (%s)", evalTimeout)
	errMemory    = limitf("evaluation budget exceeded: memory (%d MiB)", maxAlloc>>20)
	errExpensive = limitf("evaluation budget exceeded: expensive functions (%d units)", maxExpensive)
	errDepth     = limitf("evaluation budget exceeded: template calls nested deeper than %d", maxDepth)
	errOutput    = limitf("output exceeds %d bytes", maxOutput)
	errPrint     = limitf("a printed value is larger than %d bytes", maxValue)
)

// budget is what one evaluation may still spend. It is used by one goroutine
// only: text/template executes a template on the caller's goroutine.
type budget struct {
	steps    int
	alloc    int
	depth    int
	session  *Session // the deadline and expensive units, shared by its evaluations
	deadline time.Time
}

func newBudget(s *Session) *budget {
	return &budget{steps: maxSteps, alloc: maxAlloc, session: s, deadline: s.deadline}
}

// Session is the budget shared by the evaluations of one object's reconcile:
// one deadline and one allowance of expensive functions for all its templates,
// so that many templates in one object cannot multiply the cost. Steps and
// memory stay per evaluation. A Session is not for concurrent use.
type Session struct {
	deadline  time.Time
	expensive int
}

// NewSession starts a budget of evalTimeout and maxExpensive units.
func NewSession() *Session {
	return &Session{deadline: time.Now().Add(evalTimeout), expensive: maxExpensive}
}

// tick spends one step and checks the deadline.
func (b *budget) tick() error {
	b.steps--
	if b.steps < 0 {
		return errSteps
	}
	if time.Now().After(b.deadline) {
		return errDeadline
	}
	return nil
}

// spend takes n bytes from the allocation budget.
func (b *budget) spend(n int) error {
	b.alloc -= n
	if b.alloc < 0 {
		return errMemory
	}
	return nil
}

// funcs is the function table of one evaluation: the control functions
// bound to b, and a guarded copy of each function the template uses.
func (b *budget) funcs(used map[string]bool) template.FuncMap {
	m := template.FuncMap{
		stepFunc:  b.step,
		enterFunc: b.enter,
		leaveFunc: b.leave,
		outFunc:   b.out,
		rangeFunc: b.rangeOver,
	}
	for name := range used {
		if g := guards[name]; g != nil {
			m[name] = g.bind(b)
		}
	}
	return m
}

// step starts every list: each loop iteration and branch costs one.
func (b *budget) step() (string, error) { return "", b.tick() }

// enter starts every template body; leave ends it. Nothing can leave a body
// early but an error, which ends the evaluation, so the count stays exact.
func (b *budget) enter() (string, error) {
	b.depth++
	if b.depth > maxDepth {
		return "", errDepth
	}
	return "", b.tick()
}

func (b *budget) leave() string {
	b.depth--
	return ""
}

// out ends every printing action. fmt formats a value whole before the
// output writer can refuse it, so a value that aliases one map a thousand
// times would be formatted a thousand times over: refuse it first.
func (b *budget) out(v reflect.Value) (reflect.Value, error) {
	if err := b.tick(); err != nil {
		return v, err
	}
	if size(v, 0, maxValue+1) > maxValue {
		return v, errPrint
	}
	return v, nil
}

// rangeOver ends every range pipeline. text/template sorts a map before
// ranging over it, which allocates per entry: charge that to the budget.
func (b *budget) rangeOver(v reflect.Value) (reflect.Value, error) {
	if err := b.tick(); err != nil {
		return v, err
	}
	c := v
	for c.Kind() == reflect.Interface || c.Kind() == reflect.Pointer {
		if c.IsNil() {
			return v, nil
		}
		c = c.Elem()
	}
	if c.Kind() == reflect.Map {
		return v, b.spend(64 * c.Len())
	}
	return v, nil
}
