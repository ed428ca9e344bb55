package testenv

import (
	"bytes"
	"encoding/base64"
	"sync"
)

// LeakCheck collects operator output (logs) and the secret values a test
// suite wrote, and finds values in any text handed to it. Scan (scan.go) is
// the suite's final check over everything the operator emitted.
type LeakCheck struct {
	mu     sync.Mutex
	logs   bytes.Buffer
	values map[string]bool
}

// NewLeakCheck returns an empty LeakCheck.
func NewLeakCheck() *LeakCheck { return &LeakCheck{values: map[string]bool{}} }

// Write captures log output; it makes LeakCheck an io.Writer for the logger.
func (l *LeakCheck) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logs.Write(p)
}

// Secret remembers a secret value and returns it, so tests write
// leak.Secret("s3cr3t-…") where they put a value into Vault.
func (l *LeakCheck) Secret(v string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.values[v] = true
	return v
}

// count returns how many values were remembered.
func (l *LeakCheck) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.values)
}

// Logs returns what was logged so far.
func (l *LeakCheck) Logs() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.logs.Bytes())
}

// Find returns the remembered values (or their base64 forms) found in text.
func (l *LeakCheck) Find(text []byte) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []string
	for v := range l.values {
		for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))} {
			if bytes.Contains(text, []byte(form)) {
				found = append(found, v)
				break
			}
		}
	}
	return found
}
