package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Bounds of what a store's server may send back. A tenant may run the server,
// and every answer is read whole into memory by the api client.
const (
	// maxResponseBytes caps every answer's body, counted as the api client reads
	// it (after any decompression): a KV secret is at most about 1 MiB (Vault's
	// integrated storage refuses larger entries), plus JSON escaping and
	// metadata. A larger answer fails; it is never cut short silently.
	maxResponseBytes = 4 << 20
	// maxErrorBytes caps the body of an error answer (status 400 and up), which
	// is read whole and redacted before the api client sees it: Vault's errors
	// and the metadata of a deleted KV v2 version are a few hundred bytes.
	maxErrorBytes = 64 << 10
	// maxResponseHeaderBytes caps an answer's headers; Vault sends a few hundred
	// bytes.
	maxResponseHeaderBytes = 64 << 10
)

// Errors of answers the guard refuses. classify adds providers.ErrUnavailable.
var (
	errAnswerTooLarge = fmt.Errorf("the server's answer is larger than %d bytes", maxResponseBytes)
	errErrorTooLarge  = fmt.Errorf("the server's error answer is larger than %d bytes", maxErrorBytes)
	errCompressed     = errors.New("the server sent a compressed answer, which baosync never asks for")
	errRedirect       = errors.New("the server redirected to another scheme, host or port; baosync sends the token and " +
		"login requests to the configured server only (point server at the active node or its load balancer)")
)

// guard wraps the transport of a store's client. It refuses redirects that
// leave the server's origin (the api client follows one redirect and would
// send the token and any login body along), refuses compressed answers, caps
// every body at maxResponseBytes (error answers at maxErrorBytes), and redacts the request's token and body
// values from error answers, so that a server echoing them cannot put them
// into messages (see classify).
type guard struct {
	next http.RoundTripper
	// big, when set, is the provider's slots for answers past bigAnswer bytes:
	// a body of 4 MiB can decode into tens of MiB, so only a few such answers
	// are decoded at once, whoever's server sends them.
	big chan struct{}
}

// bigAnswer is the size past which an answer needs a slot of guard.big.
const bigAnswer = 256 << 10

// RoundTrip sends req through the wrapped transport and checks the answer.
func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if err := checkAnswer(req, resp); err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	if resp.StatusCode >= http.StatusBadRequest {
		if err := redactAnswer(req, resp); err != nil {
			return nil, err
		}
		return resp, nil
	}
	resp.Body = &cappedBody{rc: resp.Body, left: maxResponseBytes, err: errAnswerTooLarge, big: g.big, ctx: req.Context()}
	return resp, nil
}

// checkAnswer refuses an answer before its body is read.
func checkAnswer(req *http.Request, resp *http.Response) error {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		loc, err := req.URL.Parse(resp.Header.Get("Location"))
		if err != nil || !sameOrigin(req.URL, loc) {
			return errRedirect
		}
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return errCompressed
	}
	switch {
	case resp.StatusCode >= http.StatusBadRequest && resp.ContentLength > maxErrorBytes:
		return errErrorTooLarge
	case resp.ContentLength > maxResponseBytes:
		return errAnswerTooLarge
	}
	return nil
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port returns u's port, or the default port of its scheme.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// redactAnswer reads an error answer (within maxErrorBytes) and replaces its
// body by one without the request's token and body values.
func redactAnswer(req *http.Request, resp *http.Response) error {
	body, err := io.ReadAll(&cappedBody{rc: resp.Body, left: maxErrorBytes, err: errErrorTooLarge})
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	body = requestRedactor(req).redactJSON(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return nil
}

// cappedBody fails a read past its limit instead of ending early, so that a cut
// answer is never parsed as a whole one.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error // returned past the limit

	// big, when set, is the slots for decoding answers past bigAnswer bytes.
	// Such an answer is read to its end before a slot is taken, so that a
	// server sending a big answer slowly holds no slot while it trickles;
	// only the decode, which is quick, waits for and holds one.
	big     chan struct{}
	ctx     context.Context
	holding bool
	body    io.Closer // the server's body, once the rest of it is buffered
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.big != nil && !b.holding && maxResponseBytes-b.left >= bigAnswer {
		if err := b.bufferThenWait(); err != nil {
			return 0, err
		}
	}
	if b.left <= 0 {
		// At the cap: only the end of the body is acceptable.
		var probe [1]byte
		n, err := b.rc.Read(probe[:])
		if n > 0 {
			return 0, b.err
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

// bufferThenWait reads the rest of a big answer (within the cap) and then
// waits for a slot, bounded by the request's timeout.
func (b *cappedBody) bufferThenWait() error {
	rest, err := io.ReadAll(&cappedBody{rc: b.rc, left: b.left, err: b.err})
	if err != nil {
		return err
	}
	b.body, b.rc = b.rc, io.NopCloser(bytes.NewReader(rest))
	select {
	case b.big <- struct{}{}:
		b.holding = true
		return nil
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}

func (b *cappedBody) Close() error {
	if b.holding {
		b.holding = false
		<-b.big
	}
	if b.body != nil {
		return b.body.Close()
	}
	return b.rc.Close()
}
