package smtp

/*
#cgo pkg-config: smtp
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>

// The calling thread, to tell a call from inside a callback (which runs on
// the thread of the call it is part of) from one on another goroutine.
static uintptr_t libsmtp_go_thread(void)
{
	return (uintptr_t)pthread_self();
}

// The Go trace callback (callbacks.go), as cgo exports it.
extern void libsmtpGoTrace(void *, int, char *, size_t);

// The userdata is a runtime/cgo.Handle, an integer: converting it to a
// pointer here keeps go vet's unsafe.Pointer check quiet.
static int libsmtp_go_set_trace(smtp_session *s, uintptr_t h)
{
	return smtp_session_set_trace(s, h ? (smtp_trace_fn)libsmtpGoTrace : NULL, (void *)h);
}
*/
import "C"

import (
	"math"
	"net"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Kind is the kind of session: smtplib's SMTP, SMTP_SSL or LMTP class.
type Kind int

const (
	// SMTP: plain SMTP (STARTTLS available), default port 25.
	SMTP Kind = C.SMTP_KIND_SMTP
	// SMTPSSL: TLS from the first byte (smtplib's SMTP_SSL), default port 465.
	SMTPSSL Kind = C.SMTP_KIND_SMTP_SSL
	// LMTP: RFC 2033 (LHLO, one reply per recipient after the data),
	// default port 2003; an address starting with "/" is a Unix socket.
	LMTP Kind = C.SMTP_KIND_LMTP
)

func (k Kind) String() string {
	switch k {
	case SMTP:
		return "SMTP"
	case SMTPSSL:
		return "SMTPSSL"
	case LMTP:
		return "LMTP"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// TimeoutKind selects one of a session's timeouts (SMTP_TIMEOUT_*). Every
// wait inside a call ends at the earliest of: TimeoutCall after the call
// began; TimeoutIO after the last byte sent or received; while message data
// waits to be written, TimeoutDataBlock after the server last took some;
// while a reply is awaited, that reply's limit (TimeoutGreeting,
// TimeoutMail, TimeoutRcpt, TimeoutData, TimeoutFinalDot, else
// TimeoutReply) counted from the previous reply or the last byte sent,
// however slowly the server trickles it; while connecting, TimeoutConnect
// for the name lookup and for each address. The first to run out ends the
// call with ErrTimeout (the message names the limit) and closes the
// connection. TimeoutAll sets every limit but TimeoutCall at once.
type TimeoutKind int

const (
	// TimeoutConnect bounds establishing a connection, per address tried
	// (default 30 s).
	TimeoutConnect TimeoutKind = C.SMTP_TIMEOUT_CONNECT
	// TimeoutIO bounds each read or write (default 5 min).
	TimeoutIO TimeoutKind = C.SMTP_TIMEOUT_IO
	// TimeoutReply bounds one whole reply to a command without a phase of
	// its own below, however slowly the server sends it (default 10 min).
	TimeoutReply TimeoutKind = C.SMTP_TIMEOUT_REPLY
	// TimeoutGreeting bounds the greeting and a TLS handshake (default 5 min).
	TimeoutGreeting TimeoutKind = C.SMTP_TIMEOUT_GREETING
	// TimeoutMail bounds the reply to MAIL (default 5 min).
	TimeoutMail TimeoutKind = C.SMTP_TIMEOUT_MAIL
	// TimeoutRcpt bounds the reply to each RCPT (default 5 min).
	TimeoutRcpt TimeoutKind = C.SMTP_TIMEOUT_RCPT
	// TimeoutData bounds the reply to DATA (default 2 min).
	TimeoutData TimeoutKind = C.SMTP_TIMEOUT_DATA
	// TimeoutDataBlock bounds each write of message data (default 3 min).
	TimeoutDataBlock TimeoutKind = C.SMTP_TIMEOUT_DATA_BLOCK
	// TimeoutFinalDot bounds the reply after the final dot (default 10 min).
	TimeoutFinalDot TimeoutKind = C.SMTP_TIMEOUT_FINAL_DOT
	// TimeoutCall bounds the whole of one call, however many replies and
	// writes it takes, name lookup and connect included (default 0: no
	// limit). TimeoutAll does not set it.
	TimeoutCall TimeoutKind = C.SMTP_TIMEOUT_CALL
	// TimeoutAll is every limit above but TimeoutCall (connect, I/O, reply,
	// greeting, MAIL, RCPT, DATA, data block, final dot): SetTimeout sets
	// them all, so that no single wait lasts longer (smtplib's timeout, and
	// what WithTimeout sets). Timeout(TimeoutAll) is the longest of them, 0
	// when one of them is unlimited.
	TimeoutAll TimeoutKind = C.SMTP_TIMEOUT_ALL
)

// LineEndings is the line-ending policy of Data, SendMail and SendMessage.
// In every mode a dot after any line break is doubled (no message can end
// DATA early) and the message ends in CRLF.
type LineEndings uint

const (
	// Normalize: lone CR and lone LF become CRLF (smtplib's str). The default.
	Normalize LineEndings = C.SMTP_MSG_NORMALIZE
	// Raw: the bytes as given (smtplib's bytes).
	Raw LineEndings = C.SMTP_MSG_RAW
	// RejectBareEOL: a lone CR or LF is ErrInvalidArgument before anything
	// is sent; otherwise as Raw.
	RejectBareEOL LineEndings = C.SMTP_MSG_REJECT_BARE_EOL
)

// AuthFlag modifies Login, Auth and AuthBuiltin.
type AuthFlag uint

const (
	// NoInitialResponse: send AUTH without an initial response (smtplib's
	// initial_response_ok=False).
	NoInitialResponse AuthFlag = C.SMTP_AUTH_NO_INITIAL_RESPONSE
	// AllowCleartext: allow PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER on a
	// connection that is neither TLS, a Unix socket nor loopback.
	AllowCleartext AuthFlag = C.SMTP_AUTH_ALLOW_CLEARTEXT
)

// TraceDirection tells what a trace line is about.
type TraceDirection int

const (
	TraceInfo TraceDirection = C.SMTP_TRACE_INFO // about the connection
	TraceSend TraceDirection = C.SMTP_TRACE_SEND // what the client sent
	TraceRecv TraceDirection = C.SMTP_TRACE_RECV // what the server sent
)

// Version is the version of the libsmtp found at run time ("0.1.0").
func Version() string {
	return C.GoString(C.smtp_lib_version())
}

// callbackGuard records the thread on which one of a Client's Go callbacks
// runs, so that a call on the same Client from inside it fails with
// ErrBadState instead of waiting forever for the Client's mutex, while a
// call from another goroutine waits as usual. (A cgo callback runs on the
// thread of the C call, and its goroutine stays on that thread until it
// returns.) Callback state holds the guard, never the Client, so that a
// forgotten Client can still be finalized.
type callbackGuard struct {
	thread atomic.Uintptr // 0: no callback running
}

func currentThread() uintptr { return uintptr(C.libsmtp_go_thread()) }

// enter marks a callback as running on this thread; call the result when
// it returns.
func (g *callbackGuard) enter() func() {
	prev := g.thread.Swap(currentThread())
	return func() { g.thread.Store(prev) }
}

// inside reports whether the caller is inside one of the Client's callbacks.
func (g *callbackGuard) inside() bool {
	t := g.thread.Load()
	return t != 0 && t == currentThread()
}

// Client is one SMTP, SMTP_SSL or LMTP session (smtplib's SMTP object).
// Make it with Dial or New; release it with Close.
//
// A Client must not be used from two goroutines at once: calls are
// serialised by a mutex, in no particular order. A callback must not wait
// for another goroutine that calls the same Client. The exception is
// Cancel, which any goroutine may call at any time.
type Client struct {
	// mu serialises the calls on the session; a call holds it for as long
	// as it runs.
	mu sync.Mutex
	// life guards the lifetime of s, never held across a network call:
	// Cancel holds it shared (without mu, which the call it cancels holds);
	// Close holds it exclusively (with mu) while it frees s and sets it to
	// nil. So s is read under mu or life, and written under both.
	life        sync.RWMutex
	s           *C.smtp_session
	kind        Kind
	guard       *callbackGuard
	trace       cgo.Handle // the trace function's handle, 0 when none
	lineEndings LineEndings
}

// Option configures a Client made by New or Dial.
type Option func(*config)

type config struct {
	kind    Kind
	actions []func(*Client) error
}

func action(f func(*Client) error) Option {
	return func(cfg *config) { cfg.actions = append(cfg.actions, f) }
}

// WithKind makes Dial (or New, overriding its argument) create a session of
// kind k.
func WithKind(k Kind) Option {
	return func(cfg *config) { cfg.kind = k }
}

// WithLocalHostname sets the name sent with EHLO, HELO and LHLO when none
// is given (smtplib's local_hostname).
func WithLocalHostname(name string) Option {
	return action(func(c *Client) error { return c.SetLocalHostname(name) })
}

// WithTimeout bounds every single wait (smtplib's timeout): the name
// lookup and connect, each read and write, the greeting and TLS handshake,
// and each reply however slowly the server trickles it. It sets TimeoutAll,
// so every limit but TimeoutCall; 0 means no limit. A bound on the whole
// of a call is WithTimeoutFor(TimeoutCall, d); options apply in order, so
// a WithTimeoutFor after WithTimeout overrides one limit.
func WithTimeout(d time.Duration) Option {
	return action(func(c *Client) error { return c.SetTimeout(TimeoutAll, d) })
}

// WithTimeoutFor sets one timeout (see TimeoutKind); 0 means no limit.
func WithTimeoutFor(which TimeoutKind, d time.Duration) Option {
	return action(func(c *Client) error { return c.SetTimeout(which, d) })
}

// WithSourceAddress binds connections to a local address (smtplib's
// source_address); port 0 lets the system choose.
func WithSourceAddress(host string, port uint16) Option {
	return action(func(c *Client) error { return c.SetSourceAddress(host, port) })
}

// WithTLSConfig sets the TLS configuration for SMTPSSL sessions and for
// StartTLS(nil). The session keeps its own reference: cfg may be closed
// afterwards.
func WithTLSConfig(cfg *TLSConfig) Option {
	return action(func(c *Client) error { return c.SetTLSConfig(cfg) })
}

// WithRequireTLS makes SendMail, SendMessage, Login and the Auth calls
// refuse (ErrNotEncrypted, nothing sent) unless the connection is TLS.
func WithRequireTLS() Option {
	return action(func(c *Client) error { return c.SetRequireTLS(true) })
}

// WithDebugLevel sets smtplib's debug level (see SetDebugLevel).
func WithDebugLevel(level int) Option {
	return action(func(c *Client) error { return c.SetDebugLevel(level) })
}

// WithTrace sends the debug trace to fn (see SetTrace).
func WithTrace(fn func(dir TraceDirection, line string)) Option {
	return action(func(c *Client) error { return c.SetTrace(fn) })
}

// WithLineEndings sets the line-ending policy (see SetLineEndings).
func WithLineEndings(mode LineEndings) Option {
	return action(func(c *Client) error { return c.SetLineEndings(mode) })
}

// WithTrustLoopback sets whether a loopback peer counts as protecting
// secrets (default true; see SetTrustLoopback).
func WithTrustLoopback(trust bool) Option {
	return action(func(c *Client) error { return c.SetTrustLoopback(trust) })
}

// New makes a session of kind k, not yet connected (smtplib's SMTP() with no
// host). An unknown kind is ErrInvalidArgument.
func New(k Kind, opts ...Option) (*Client, error) {
	cfg := config{kind: k}
	for _, o := range opts {
		o(&cfg)
	}
	s := C.smtp_session_new(C.int(cfg.kind))
	if s == nil {
		return nil, &Error{Code: ErrInvalidArgument, Op: "new", Message: "unknown session kind " + cfg.kind.String()}
	}
	c := &Client{s: s, kind: cfg.kind, guard: &callbackGuard{}}
	runtime.SetFinalizer(c, (*Client).Close)
	for _, a := range cfg.actions {
		if err := a(c); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Dial connects to addr and reads the greeting, which must be 220
// (smtplib's SMTP(host, port); else ErrConnectReply). addr is "host:port",
// "[v6addr]:port", a host alone for the kind's default port, or on LMTP a
// Unix socket path starting with "/". The kind is SMTP unless WithKind says
// otherwise.
func Dial(addr string, opts ...Option) (*Client, error) {
	c, err := New(SMTP, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := c.Open(addr); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Kind is the session's kind.
func (c *Client) Kind() Kind { return c.kind }

// begin locks the Client for one call.
func (c *Client) begin(op string) error {
	if c.guard.inside() {
		return &Error{Code: ErrBadState, Op: op, Message: "called from inside one of the session's callbacks"}
	}
	c.mu.Lock()
	if c.s == nil {
		c.mu.Unlock()
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed Client"}
	}
	return nil
}

// check turns a result code into an *Error, copying the session's details.
func (c *Client) check(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	e := &Error{Code: Code(rc), Op: op, Message: C.GoString(C.smtp_session_errmsg(c.s))}
	if carriesReply(e.Code) {
		e.ReplyCode = int(C.smtp_session_last_reply_code(c.s))
		e.ReplyText = C.GoString(C.smtp_session_last_reply_text(c.s))
	}
	return e
}

// reply builds the result of a call that gives smtplib's (code, message).
func (c *Client) reply(op string, rc C.int, code C.int) (Reply, error) {
	if err := c.check(op, rc); err != nil {
		return Reply{}, err
	}
	return Reply{Code: int(code), Text: C.GoString(C.smtp_session_last_reply_text(c.s))}, nil
}

// cstring copies s to C memory; a NUL in it is ErrInvalidArgument (C
// strings cannot carry it). Free the result with C.free.
func cstring(op, what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: ErrInvalidArgument, Op: op, Message: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// optCString is cstring, with "" as NULL.
func optCString(op, what, s string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cstring(op, what, s)
}

// cstrings is a C array of C strings.
type cstrings struct {
	arr  **C.char
	strs []*C.char
}

func newCStrings(op, what string, list []string) (*cstrings, error) {
	cs := &cstrings{}
	if len(list) == 0 {
		return cs, nil
	}
	cs.arr = (**C.char)(C.malloc(C.size_t(len(list)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	cs.strs = unsafe.Slice(cs.arr, len(list))
	for i := range cs.strs {
		cs.strs[i] = nil
	}
	for i, s := range list {
		p, err := cstring(op, what, s)
		if err != nil {
			cs.free()
			return nil, err
		}
		cs.strs[i] = p
	}
	return cs, nil
}

func (cs *cstrings) free() {
	if cs == nil || cs.arr == nil {
		return
	}
	for _, p := range cs.strs {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(cs.arr))
	cs.arr, cs.strs = nil, nil
}

func (cs *cstrings) len() C.size_t { return C.size_t(len(cs.strs)) }

// bytesPtr points at msg's bytes (Go memory, pinned for the call).
func bytesPtr(msg []byte) *C.uint8_t {
	if len(msg) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&msg[0]))
}

// splitAddr turns a Go-style address into the library's host and port.
func splitAddr(op, addr string) (string, uint16, error) {
	if strings.HasPrefix(addr, "/") {
		return addr, 0, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0, nil // no port: the kind's default
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		if p, lerr := net.LookupPort("tcp", port); lerr == nil {
			return host, uint16(p), nil
		}
		return "", 0, &Error{Code: ErrInvalidArgument, Op: op, Message: "invalid port in address " + strconv.Quote(addr)}
	}
	return host, uint16(n), nil
}

func (c *Client) connect(op, addr string, open bool) (Reply, error) {
	host, port, err := splitAddr(op, addr)
	if err != nil {
		return Reply{}, err
	}
	ch, err := cstring(op, "host", host)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ch))
	if err := c.begin(op); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	var rc C.int
	if open {
		rc = C.smtp_session_open(c.s, ch, C.uint16_t(port), &code)
	} else {
		rc = C.smtp_session_connect(c.s, ch, C.uint16_t(port), &code)
	}
	return c.reply(op, rc, code)
}

// Connect connects to addr (as for Dial) and returns the greeting
// (smtplib's connect): a greeting other than 220 is not an error here. An
// open connection is closed first.
func (c *Client) Connect(addr string) (Reply, error) {
	return c.connect("connect", addr, false)
}

// Open is Connect, with a greeting other than 220 an error
// (ErrConnectReply, connection closed), as in smtplib's SMTP(host, port).
func (c *Client) Open(addr string) (Reply, error) {
	return c.connect("open", addr, true)
}

// Disconnect drops the connection without QUIT (smtplib's close()); the
// Client stays usable and may Connect again.
func (c *Client) Disconnect() error {
	if err := c.begin("disconnect"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("disconnect", C.smtp_session_close(c.s))
}

// Close drops the connection without QUIT (call Quit first for a polite
// close) and frees the session. It is idempotent; every other method then
// returns ErrBadState.
func (c *Client) Close() error {
	if c.guard.inside() {
		return &Error{Code: ErrBadState, Op: "close", Message: "called from inside one of the session's callbacks"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s == nil {
		return nil
	}
	// Wait for a Cancel that is using the session; later ones see nil.
	c.life.Lock()
	C.smtp_session_free(c.s)
	c.s = nil
	c.life.Unlock()
	if c.trace != 0 {
		deleteHandle(c.trace)
		c.trace = 0
	}
	runtime.SetFinalizer(c, nil)
	return nil
}

// Cancel ends the call running on the Client in another goroutine (Dial,
// Connect, SendMail, ...): that call returns an error with Code
// ErrCancelled within 100 ms (at once when it waits on the network; a
// callback of the call runs to its end first), and the connection is
// closed, so Connect again before the next command. A message whose final
// reply was not read is reported as not sent.
//
// Cancel may be called from any goroutine at any time, also from inside
// one of the Client's callbacks: it does not wait for the running call.
// When no call runs it does nothing (it does not cancel the next call),
// and after Close it does nothing.
func (c *Client) Cancel() {
	c.life.RLock()
	defer c.life.RUnlock()
	if c.s != nil {
		C.smtp_session_cancel(c.s)
	}
}

// SetLocalHostname sets the name sent with EHLO, HELO and LHLO when none
// is given (smtplib's local_hostname).
func (c *Client) SetLocalHostname(name string) error {
	cn, err := cstring("set_local_hostname", "name", name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cn))
	if err := c.begin("set_local_hostname"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_local_hostname", C.smtp_session_set_local_hostname(c.s, cn))
}

func durationMS(d time.Duration) C.uint32_t {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return math.MaxUint32
	}
	return C.uint32_t(ms)
}

// SetTimeout sets one timeout (see TimeoutKind; TimeoutAll sets every
// limit but TimeoutCall), rounded up to a millisecond; 0 (or less) means no
// limit. It applies from the next call, on the current connection too.
func (c *Client) SetTimeout(which TimeoutKind, d time.Duration) error {
	if err := c.begin("set_timeout_ms"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_timeout_ms", C.smtp_session_set_timeout_ms(c.s, C.int(which), durationMS(d)))
}

// Timeout returns one timeout (0: no limit), or -1 for an unknown kind.
// For TimeoutAll: the longest of the limits it sets (0 when one of them is
// unlimited).
func (c *Client) Timeout(which TimeoutKind) time.Duration {
	if c.begin("timeout_ms") != nil {
		return -1
	}
	defer c.mu.Unlock()
	ms := C.smtp_session_timeout_ms(c.s, C.int(which))
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// SetSourceAddress binds the next connections to host and port (smtplib's
// source_address); "" removes the setting.
func (c *Client) SetSourceAddress(host string, port uint16) error {
	ch, err := optCString("set_source_address", "host", host)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ch))
	if err := c.begin("set_source_address"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_source_address", C.smtp_session_set_source_address(c.s, ch, C.uint16_t(port)))
}

// SetDebugLevel is smtplib's set_debuglevel: 0 quiet, 1 traces every
// command and reply, 2 adds timestamps. Lines go to stderr, or to the
// function given to SetTrace. AUTH payloads are never shown.
func (c *Client) SetDebugLevel(level int) error {
	if err := c.begin("set_debuglevel"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_debuglevel", C.smtp_session_set_debuglevel(c.s, C.int(level)))
}

// SetDebugSecrets shows AUTH payloads in the trace. For test servers only.
func (c *Client) SetDebugSecrets(show bool) error {
	if err := c.begin("set_debug_secrets"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_debug_secrets", C.smtp_session_set_debug_secrets(c.s, cbool(show)))
}

// SetTrace sends the debug trace to fn instead of stderr (nil restores
// stderr). fn is called only while the debug level is above 0, on the
// goroutine inside a call on this Client; it must not call the Client (that
// is ErrBadState). A panic in fn is recovered and the line dropped.
func (c *Client) SetTrace(fn func(dir TraceDirection, line string)) error {
	if err := c.begin("set_trace"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	var h cgo.Handle
	if fn != nil {
		h = newHandle(&traceState{fn: fn, guard: c.guard})
	}
	rc := C.libsmtp_go_set_trace(c.s, C.uintptr_t(h))
	if err := c.check("set_trace", rc); err != nil {
		if h != 0 {
			deleteHandle(h)
		}
		return err
	}
	if c.trace != 0 {
		deleteHandle(c.trace)
	}
	c.trace = h
	return nil
}

// SetLineEndings sets the policy for Data, SendMail and SendMessage.
func (c *Client) SetLineEndings(mode LineEndings) error {
	switch mode {
	case Normalize, Raw, RejectBareEOL:
	default:
		return &Error{Code: ErrInvalidArgument, Op: "set_line_endings", Message: "unknown line-ending policy " + strconv.Itoa(int(mode))}
	}
	if err := c.begin("set_line_endings"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	c.lineEndings = mode
	return nil
}

// SetTrustLoopback sets whether a loopback peer counts as protecting
// secrets for the cleartext rule of Login and Auth (default true). Set
// false when a loopback port may forward elsewhere.
func (c *Client) SetTrustLoopback(trust bool) error {
	if err := c.begin("set_trust_loopback"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_trust_loopback", C.smtp_session_set_trust_loopback(c.s, cbool(trust)))
}

// SetRequireTLS: see WithRequireTLS.
func (c *Client) SetRequireTLS(on bool) error {
	if err := c.begin("set_require_tls"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("set_require_tls", C.smtp_session_set_require_tls(c.s, cbool(on)))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// IsConnected reports whether the session has a connection.
func (c *Client) IsConnected() bool {
	if c.begin("is_connected") != nil {
		return false
	}
	defer c.mu.Unlock()
	return C.smtp_session_is_connected(c.s) != 0
}

// LastReply is the reply behind the last result (smtp_session_last_reply_code
// and _text).
func (c *Client) LastReply() Reply {
	if c.begin("last_reply") != nil {
		return Reply{}
	}
	defer c.mu.Unlock()
	return Reply{Code: int(C.smtp_session_last_reply_code(c.s)), Text: C.GoString(C.smtp_session_last_reply_text(c.s))}
}

// Helo is smtplib's helo: HELO with name, or the local hostname when "".
func (c *Client) Helo(name string) (Reply, error) {
	cn, err := optCString("helo", "name", name)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(cn))
	if err := c.begin("helo"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("helo", C.smtp_session_helo(c.s, cn, &code), code)
}

// Ehlo is smtplib's ehlo (LHLO on LMTP): with name, or the local hostname
// when "". A refusal is a Reply with its code, not an error.
func (c *Client) Ehlo(name string) (Reply, error) {
	cn, err := optCString("ehlo", "name", name)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(cn))
	if err := c.begin("ehlo"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("ehlo", C.smtp_session_ehlo(c.s, cn, &code), code)
}

// EhloOrHeloIfNeeded is smtplib's ehlo_or_helo_if_needed: EHLO, then HELO
// if refused, when neither was done; both refused is ErrHelo.
func (c *Client) EhloOrHeloIfNeeded() error {
	if err := c.begin("ehlo_or_helo_if_needed"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.check("ehlo_or_helo_if_needed", C.smtp_session_ehlo_or_helo_if_needed(c.s))
}

// HasExtn is smtplib's has_extn: whether the last EHLO advertised name
// (case-insensitive).
func (c *Client) HasExtn(name string) bool {
	if strings.IndexByte(name, 0) >= 0 {
		return false
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if c.begin("has_extn") != nil {
		return false
	}
	defer c.mu.Unlock()
	return C.smtp_session_has_extn(c.s, cn) != 0
}

// Feature is one extension of the last EHLO reply.
type Feature struct {
	// Name is the keyword, lower-case ("size", "auth").
	Name string
	// Params as smtplib keeps them ("" when none).
	Params string
}

// Features is smtplib's esmtp_features, in the server's order (AUTH lines
// merged into one).
func (c *Client) Features() []Feature {
	if c.begin("features") != nil {
		return nil
	}
	defer c.mu.Unlock()
	n := C.smtp_session_feature_count(c.s)
	out := make([]Feature, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, Feature{
			Name:   C.GoString(C.smtp_session_feature_name(c.s, i)),
			Params: C.GoString(C.smtp_session_feature_params(c.s, i)),
		})
	}
	return out
}

// Feature returns the parameters of extension name (case-insensitive) and
// whether it was advertised.
func (c *Client) Feature(name string) (string, bool) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", false
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if c.begin("feature") != nil {
		return "", false
	}
	defer c.mu.Unlock()
	p := C.smtp_session_feature(c.s, cn)
	if p == nil {
		return "", false
	}
	return C.GoString(p), true
}

// DoesESMTP is smtplib's does_esmtp: whether an EHLO got 250.
func (c *Client) DoesESMTP() bool {
	if c.begin("does_esmtp") != nil {
		return false
	}
	defer c.mu.Unlock()
	return C.smtp_session_does_esmtp(c.s) != 0
}

// EhloResp is smtplib's ehlo_resp; false when no EHLO was answered since
// connect or QUIT.
func (c *Client) EhloResp() (string, bool) {
	if c.begin("ehlo_resp") != nil {
		return "", false
	}
	defer c.mu.Unlock()
	return optGoString(C.smtp_session_ehlo_resp(c.s))
}

// HeloResp is smtplib's helo_resp.
func (c *Client) HeloResp() (string, bool) {
	if c.begin("helo_resp") != nil {
		return "", false
	}
	defer c.mu.Unlock()
	return optGoString(C.smtp_session_helo_resp(c.s))
}

func optGoString(p *C.char) (string, bool) {
	if p == nil {
		return "", false
	}
	return C.GoString(p), true
}

// Docmd is smtplib's docmd: cmd, or "cmd args" when args is not "", and
// the reply.
func (c *Client) Docmd(cmd, args string) (Reply, error) {
	cc, err := cstring("docmd", "command", cmd)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(cc))
	ca, err := optCString("docmd", "arguments", args)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	if err := c.begin("docmd"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("docmd", C.smtp_session_docmd(c.s, cc, ca, &code), code)
}

// Noop is smtplib's noop.
func (c *Client) Noop() (Reply, error) {
	if err := c.begin("noop"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("noop", C.smtp_session_noop(c.s, &code), code)
}

// Rset is smtplib's rset, ending the mail transaction.
func (c *Client) Rset() (Reply, error) {
	if err := c.begin("rset"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("rset", C.smtp_session_rset(c.s, &code), code)
}

// Help is smtplib's help: HELP, with args when not "".
func (c *Client) Help(args string) (Reply, error) {
	ca, err := optCString("help", "arguments", args)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	if err := c.begin("help"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("help", C.smtp_session_help(c.s, ca, &code), code)
}

// Verify is smtplib's verify: VRFY with the address part of address.
func (c *Client) Verify(address string) (Reply, error) {
	ca, err := cstring("verify", "address", address)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	if err := c.begin("verify"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("verify", C.smtp_session_verify(c.s, ca, &code), code)
}

// Expn is smtplib's expn: EXPN with the address part of address.
func (c *Client) Expn(address string) (Reply, error) {
	ca, err := cstring("expn", "address", address)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	if err := c.begin("expn"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("expn", C.smtp_session_expn(c.s, ca, &code), code)
}

// Mail is smtplib's mail: MAIL FROM:<sender>, with options once EHLO
// succeeded. It starts a new transaction.
func (c *Client) Mail(sender string, options ...string) (Reply, error) {
	return c.mailOrRcpt("mail", sender, options)
}

// Rcpt is smtplib's rcpt: RCPT TO:<recipient>, with options once EHLO
// succeeded. The reply is also kept in Recipients.
func (c *Client) Rcpt(recipient string, options ...string) (Reply, error) {
	return c.mailOrRcpt("rcpt", recipient, options)
}

func (c *Client) mailOrRcpt(op, addr string, options []string) (Reply, error) {
	ca, err := cstring(op, "address", addr)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	opts, err := newCStrings(op, "option", options)
	if err != nil {
		return Reply{}, err
	}
	defer opts.free()
	if err := c.begin(op); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	var rc C.int
	if op == "mail" {
		rc = C.smtp_session_mail(c.s, ca, opts.arr, opts.len(), &code)
	} else {
		rc = C.smtp_session_rcpt(c.s, ca, opts.arr, opts.len(), &code)
	}
	return c.reply(op, rc, code)
}

// Data is smtplib's data: DATA, then msg (line endings per SetLineEndings,
// dots doubled, the final "."), then the reply. A reply to DATA other than
// 354 is ErrData. On LMTP one reply is read per accepted recipient (see
// Recipients); the Reply is the first failure, or the last reply.
func (c *Client) Data(msg []byte) (Reply, error) {
	if err := c.begin("data"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	rc := C.smtp_session_data(c.s, bytesPtr(msg), C.size_t(len(msg)), C.uint(c.lineEndings), &code)
	runtime.KeepAlive(msg)
	return c.reply("data", rc, code)
}

// SendOption modifies SendMail and SendMessage.
type SendOption func(*sendOptions)

type sendOptions struct {
	mail, rcpt []string
	from       *string
	to         []string
	toSet      bool
}

// MailOptions are sent with MAIL FROM (once EHLO succeeded), as smtplib's
// mail_options ("SMTPUTF8", "BODY=8BITMIME").
func MailOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.mail = append(o.mail, opts...) }
}

// RcptOptions are sent with each RCPT TO (smtplib's rcpt_options).
func RcptOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.rcpt = append(o.rcpt, opts...) }
}

// EnvelopeFrom replaces the sender SendMessage finds in the headers
// (smtplib's from_addr).
func EnvelopeFrom(addr string) SendOption {
	return func(o *sendOptions) { o.from = &addr }
}

// EnvelopeTo replaces the recipients SendMessage finds in the headers
// (smtplib's to_addrs).
func EnvelopeTo(addrs ...string) SendOption {
	return func(o *sendOptions) { o.to = append(o.to, addrs...); o.toSet = true }
}

// Recipient is one recipient's result in the last transaction.
type Recipient struct {
	// Addr is the address as given (or as found in the message).
	Addr string
	// Reply is the RCPT reply.
	Reply Reply
	// Status is the RFC 3463 code of the RCPT reply ("2.1.5") when the
	// server offers ENHANCEDSTATUSCODES, else "".
	Status string
	// DataReply is, on LMTP, the recipient's reply after the data (Code 0
	// when none was read), and DataStatus its RFC 3463 code.
	DataReply  Reply
	DataStatus string
	// Refused: RCPT not 250 or 251, or on LMTP the reply after the data
	// not 250.
	Refused bool
}

// Recipients gives the per-recipient results of the last transaction (since
// the last MAIL), in order.
func (c *Client) Recipients() []Recipient {
	if c.begin("recipients") != nil {
		return nil
	}
	defer c.mu.Unlock()
	return c.recipients()
}

func (c *Client) recipients() []Recipient {
	n := C.smtp_session_rcpt_count(c.s)
	out := make([]Recipient, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		r := Recipient{
			Addr:    C.GoString(C.smtp_session_rcpt_addr(c.s, i)),
			Reply:   Reply{Code: int(C.smtp_session_rcpt_code(c.s, i)), Text: C.GoString(C.smtp_session_rcpt_text(c.s, i))},
			Refused: C.smtp_session_rcpt_refused(c.s, i) != 0,
		}
		r.Status, _ = optGoString(C.smtp_session_rcpt_status(c.s, i))
		r.DataReply = Reply{Code: int(C.smtp_session_rcpt_data_code(c.s, i)), Text: C.GoString(C.smtp_session_rcpt_data_text(c.s, i))}
		r.DataStatus, _ = optGoString(C.smtp_session_rcpt_data_status(c.s, i))
		out = append(out, r)
	}
	return out
}

// refused builds smtplib's refused dict from the session's results.
func (c *Client) refused() map[string]Reply {
	m := map[string]Reply{}
	for _, r := range c.recipients() {
		if !r.Refused {
			continue
		}
		if r.DataReply.Code != 0 {
			m[r.Addr] = r.DataReply
		} else {
			m[r.Addr] = r.Reply
		}
	}
	return m
}

// sendResult is SendMail's and SendMessage's return: the refused map on
// success, and on ErrRecipientsRefused both returned and in Error.Refused.
func (c *Client) sendResult(op string, rc C.int) (map[string]Reply, error) {
	err := c.check(op, rc)
	if err == nil {
		return c.refused(), nil
	}
	if e := err.(*Error); e.Code == ErrRecipientsRefused || (e.Code == ErrData && c.kind == LMTP) {
		e.Refused = c.refused()
		return e.Refused, err
	}
	return nil, err
}

// SendMail is smtplib's sendmail: EHLO or HELO if needed, MAIL FROM (with
// SIZE= when offered), RCPT TO for each recipient, DATA and msg. It returns
// the refused recipients with their replies (empty when all were accepted).
// Every recipient refused is ErrRecipientsRefused, with the map in
// Error.Refused (and returned). Other errors: ErrHelo, ErrSenderRefused,
// ErrData, ErrNotSupported, ErrTooLarge, ErrNotEncrypted, and the argument
// and transport errors. On LMTP a recipient refused after the data counts
// as refused.
func (c *Client) SendMail(from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	var o sendOptions
	for _, f := range opts {
		f(&o)
	}
	cf, err := cstring("sendmail", "sender", from)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cf))
	cto, err := newCStrings("sendmail", "recipient", to)
	if err != nil {
		return nil, err
	}
	defer cto.free()
	mo, err := newCStrings("sendmail", "MAIL option", o.mail)
	if err != nil {
		return nil, err
	}
	defer mo.free()
	ro, err := newCStrings("sendmail", "RCPT option", o.rcpt)
	if err != nil {
		return nil, err
	}
	defer ro.free()
	if err := c.begin("sendmail"); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	var nrefused C.size_t
	rc := C.smtp_session_sendmail(c.s, cf, cto.arr, cto.len(), bytesPtr(msg), C.size_t(len(msg)),
		mo.arr, mo.len(), ro.arr, ro.len(), C.uint(c.lineEndings), nil, &nrefused)
	runtime.KeepAlive(msg)
	return c.sendResult("sendmail", rc)
}

// SendMessage is smtplib's send_message on a raw RFC 5322 message: the
// sender from Sender or From, the recipients from every To, Bcc and Cc
// field (the Resent- ones after a Resent-Date), unless EnvelopeFrom or
// EnvelopeTo replace them. Bcc fields are not sent; every other byte is.
// Results as SendMail.
func (c *Client) SendMessage(msg []byte, opts ...SendOption) (map[string]Reply, error) {
	var o sendOptions
	for _, f := range opts {
		f(&o)
	}
	var cf *C.char
	if o.from != nil {
		var err error
		if cf, err = cstring("send_message", "sender", *o.from); err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(cf))
	}
	cto, err := newCStrings("send_message", "recipient", o.to)
	if err != nil {
		return nil, err
	}
	defer cto.free()
	if o.toSet && len(o.to) == 0 {
		return nil, &Error{Code: ErrInvalidArgument, Op: "send_message", Message: "empty recipient list"}
	}
	mo, err := newCStrings("send_message", "MAIL option", o.mail)
	if err != nil {
		return nil, err
	}
	defer mo.free()
	ro, err := newCStrings("send_message", "RCPT option", o.rcpt)
	if err != nil {
		return nil, err
	}
	defer ro.free()
	if err := c.begin("send_message"); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	var nrefused C.size_t
	rc := C.smtp_session_send_message(c.s, bytesPtr(msg), C.size_t(len(msg)), cf, cto.arr, cto.len(),
		mo.arr, mo.len(), ro.arr, ro.len(), C.uint(c.lineEndings), &nrefused)
	runtime.KeepAlive(msg)
	return c.sendResult("send_message", rc)
}

// Quit is smtplib's quit: QUIT, then forget the EHLO state and close the
// connection. The Client stays allocated until Close.
func (c *Client) Quit() (Reply, error) {
	if err := c.begin("quit"); err != nil {
		return Reply{}, err
	}
	defer c.mu.Unlock()
	var code C.int
	return c.reply("quit", C.smtp_session_quit(c.s, &code), code)
}
