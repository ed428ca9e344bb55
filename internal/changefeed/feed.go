package changefeed

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
)

// Options bound what the feed accepts.
type Options struct {
	// Addr is the TCP address to listen on, e.g. ":8300".
	Addr string
	// MaxConns bounds the streams open at once; more are closed at once.
	MaxConns int
	// MaxLine bounds one entry; a longer line is dropped whole.
	MaxLine int
	// ConnRate and TotalRate bound the lines per second read from one
	// connection and from all; past them lines are read and dropped, never
	// left unread: a socket the server cannot write to blocks its requests.
	ConnRate, TotalRate float64
	// Metrics counts entries; nil counts nothing.
	Metrics *Metrics
	// Log is where connections and refusals are told (never a line's text).
	Log logr.Logger
}

// Defaults for Options fields left zero.
const (
	DefaultMaxConns  = 32
	DefaultMaxLine   = 256 << 10
	DefaultConnRate  = 2000
	DefaultTotalRate = 10000
)

// Handler is told what the feed learns: a change to a path of a store's
// server, and a stream of a store that (re)connected, after which changes
// made while it was down are unknown.
type Handler interface {
	Changed(store string, c Change)
	Connected(store string)
}

// Feed accepts the audit streams of the servers of the stores registered
// with it. Each store names the token its server's audit device writes in
// front of every line (the device's prefix option); a line whose token no
// store registered is dropped, so one tenant's server cannot speak for
// another's stores.
type Feed struct {
	opts    Options
	handler Handler

	mu      sync.Mutex
	streams map[[32]byte]*stream // by the token's hash
	stores  map[string][32]byte  // store -> the hash of its token
	perIP   map[string]int       // open connections by source address
}

// stream is one token: the stores that registered it and its connections.
type stream struct {
	stores map[string]bool
	conns  int
	last   time.Time     // last accepted line
	rate   *rate.Limiter // the stream's lines per second
	// owed: lines may have been missed (a (re)connection, or lines dropped
	// past the rate) and the stores' objects must catch up; caughtUp is when
	// they last did, at most once per catchUpEvery.
	owed     bool
	caughtUp time.Time
}

// Bounds of one stream and one connection.
const (
	catchUpEvery  = 30 * time.Second
	firstLineWait = 10 * time.Second // a connection that sends no accepted line by then is closed
	maxConnsPerIP = 4
)

// New returns a feed that tells handler what it learns.
func New(o Options, handler Handler) *Feed {
	o.MaxConns = orDefault(o.MaxConns, DefaultMaxConns)
	o.MaxLine = orDefault(o.MaxLine, DefaultMaxLine)
	if o.ConnRate <= 0 {
		o.ConnRate = DefaultConnRate
	}
	if o.TotalRate <= 0 {
		o.TotalRate = DefaultTotalRate
	}
	return &Feed{opts: o, handler: handler, streams: map[[32]byte]*stream{}, stores: map[string][32]byte{}, perIP: map[string]int{}}
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// ErrTokenTaken refuses a token that a store of another namespace, or a
// ClusterSecretStore, already registered: a stream speaks for one namespace's
// stores (or the cluster's), so a tenant who learnt another's token, or the
// token of a shared server, cannot listen in on that stream's changes.
var ErrTokenTaken = errors.New("this stream token is already registered by a store of another namespace or by a ClusterSecretStore; use a token of your own")

// Register makes lines carrying token speak for store ("Kind/namespace/name"),
// replacing the token store registered before; an empty token unregisters
// it. A namespace's store may share a token with its namespace's other
// stores only; a ClusterSecretStore's registration takes a token from the
// namespaced stores that held it.
func (f *Feed) Register(store, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unregisterLocked(store)
	if token == "" {
		return nil
	}
	h := sha256.Sum256([]byte(token))
	s := f.streams[h]
	if s == nil {
		s = &stream{stores: map[string]bool{}, rate: rate.NewLimiter(rate.Limit(f.opts.TotalRate), int(f.opts.TotalRate))}
		f.streams[h] = s
	}
	mine := namespaceOf(store)
	for other := range s.stores {
		switch theirs := namespaceOf(other); {
		case theirs == mine:
		case mine == "":
			delete(s.stores, other) // the admin's store wins
			delete(f.stores, other)
		default:
			return ErrTokenTaken
		}
	}
	s.stores[store] = true
	f.stores[store] = h
	return nil
}

// namespaceOf is the namespace in a store name "Kind/namespace/name"; empty
// for a ClusterSecretStore.
func namespaceOf(store string) string {
	parts := strings.SplitN(store, "/", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// Unregister forgets store.
func (f *Feed) Unregister(store string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unregisterLocked(store)
}

func (f *Feed) unregisterLocked(store string) {
	h, ok := f.stores[store]
	if !ok {
		return
	}
	delete(f.stores, store)
	if s := f.streams[h]; s != nil {
		delete(s.stores, store)
		if len(s.stores) == 0 && s.conns == 0 {
			delete(f.streams, h)
		}
	}
}

// Status says whether store's stream is connected now, and when it last
// delivered an entry.
func (f *Feed) Status(store string) (connected bool, last time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.stores[store]
	if !ok {
		return false, time.Time{}
	}
	s := f.streams[h]
	return s != nil && s.conns > 0, s.last
}

// Start listens until ctx ends; it is a manager Runnable.
func (f *Feed) Start(ctx context.Context) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", f.opts.Addr)
	if err != nil {
		return fmt.Errorf("change feed: listen on %s: %w", f.opts.Addr, err)
	}
	f.opts.Log.Info("change feed listening", "address", l.Addr().String())
	return f.Serve(ctx, l)
}

// NeedLeaderElection is true: only the leader refreshes.
func (f *Feed) NeedLeaderElection() bool { return true }

// Serve accepts streams on l until ctx ends, then closes l and every stream.
func (f *Feed) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, f.opts.MaxConns)
	go func() { <-ctx.Done(); _ = l.Close() }()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			time.Sleep(50 * time.Millisecond) // a transient accept error (too many open files)
			continue
		}
		ip := remoteIP(conn)
		if !f.admitIP(ip) {
			f.opts.Metrics.dropped("too_many_connections")
			_ = conn.Close()
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			f.releaseIP(ip)
			f.opts.Metrics.dropped("too_many_connections")
			_ = conn.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots; f.releaseIP(ip) }()
			stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
			defer stop()
			f.read(conn)
		})
	}
}

// read reads one stream's lines until it ends. A connection speaks for the
// token of its first accepted line; a line with another token is dropped.
func (f *Feed) read(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetKeepAlive(true)
	}
	r := bufio.NewReaderSize(conn, f.opts.MaxLine)
	lim := rate.NewLimiter(rate.Limit(f.opts.ConnRate), int(f.opts.ConnRate))
	_ = conn.SetReadDeadline(time.Now().Add(firstLineWait)) // lifted by the first accepted line
	var bound *[32]byte
	defer func() {
		if bound != nil {
			f.disconnect(*bound)
		}
	}()
	for {
		line, err := readLine(r)
		if errors.Is(err, bufio.ErrBufferFull) {
			f.opts.Metrics.received()
			f.opts.Metrics.dropped(dropOversized)
			continue
		}
		if err != nil {
			return // the stream ended or broke; the server reconnects
		}
		if len(line) == 0 {
			continue
		}
		f.opts.Metrics.received()
		now := time.Now()
		if !lim.AllowN(now, 1) {
			f.opts.Metrics.dropped(dropRateLimited)
			if bound != nil {
				f.owe(*bound)
			}
			continue
		}
		was := bound
		bound = f.line(line, now, bound)
		if was == nil && bound != nil {
			_ = conn.SetReadDeadline(time.Time{}) // a server's stream may be quiet for hours
		}
	}
}

// remoteIP is the connection's source address without its port.
func remoteIP(conn net.Conn) string {
	host, _, err := net.SplitHostPort(conn.RemoteAddr().String())
	if err != nil {
		return conn.RemoteAddr().String()
	}
	return host
}

// admitIP counts a connection of ip, refusing past maxConnsPerIP: one client
// cannot take every slot.
func (f *Feed) admitIP(ip string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.perIP[ip] >= maxConnsPerIP {
		return false
	}
	f.perIP[ip]++
	return true
}

func (f *Feed) releaseIP(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.perIP[ip]--; f.perIP[ip] <= 0 {
		delete(f.perIP, ip)
	}
}

// owe records that the stream h lost lines.
func (f *Feed) owe(h [32]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.streams[h]; s != nil {
		s.owed = true
	}
}

// readLine reads one line without its newline; a line longer than the
// reader's buffer is consumed to its end and reported as ErrBufferFull.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		if err != nil && (!errors.Is(err, io.EOF) || len(line) == 0) {
			return nil, err
		}
		return trimNewline(line), nil
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = r.ReadSlice('\n')
	}
	if err != nil {
		return nil, err
	}
	return nil, bufio.ErrBufferFull
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// line handles one line of a connection bound to the token hash bound (nil
// before its first accepted line) and returns the connection's binding.
func (f *Feed) line(line []byte, now time.Time, bound *[32]byte) *[32]byte {
	token, body, ok := splitLine(line)
	if !ok {
		f.opts.Metrics.dropped(dropMalformed)
		return bound
	}
	h := sha256.Sum256(token)
	if bound != nil && *bound != h {
		f.opts.Metrics.dropped(dropUnknown)
		return bound
	}
	stores, catchUp, ok := f.accept(h, bound == nil, now)
	if stores == nil {
		f.opts.Metrics.dropped(dropUnknown)
		return bound
	}
	if bound == nil {
		bound = &h
	}
	if catchUp {
		for _, s := range stores {
			f.handler.Connected(s)
		}
	}
	if !ok {
		f.opts.Metrics.dropped(dropRateLimited)
		return bound
	}
	c, err := parse(body, now)
	switch {
	case errors.Is(err, errNotAWrite):
		f.opts.Metrics.dropped(dropIgnored)
		return bound
	case err != nil:
		f.opts.Metrics.dropped(dropMalformed)
		return bound
	}
	f.opts.Metrics.change()
	for _, s := range stores {
		f.handler.Changed(s, c)
	}
	return bound
}

// accept looks up the stores of the token hash h; with connect it counts a
// new connection of the stream. It reports whether the stores' objects must
// catch up now (the stream's first connection, or lines were lost; at most
// once per catchUpEvery) and whether the line is within the stream's rate.
func (f *Feed) accept(h [32]byte, connect bool, now time.Time) (stores []string, catchUp, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.streams[h]
	if s == nil || len(s.stores) == 0 {
		return nil, false, false
	}
	if connect {
		s.conns++
		s.owed = s.owed || s.conns == 1
	}
	ok = s.rate.AllowN(now, 1)
	if !ok {
		s.owed = true
	}
	if s.owed && now.Sub(s.caughtUp) >= catchUpEvery {
		s.owed, s.caughtUp, catchUp = false, now, true
	}
	s.last = now
	for name := range s.stores {
		stores = append(stores, name)
	}
	return stores, catchUp, ok
}

// disconnect counts a closed connection of the stream h.
func (f *Feed) disconnect(h [32]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.streams[h]; s != nil {
		s.conns--
		if s.conns == 0 && len(s.stores) == 0 {
			delete(f.streams, h)
		}
	}
}
