package smtp

/*
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
*/
import "C"

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// The constants below are plain numbers, so that godoc shows Go names
// only; consts_test.go checks each against the header's macro.

// Kind is the kind of session: smtplib's SMTP, SMTP_SSL or LMTP class.
type Kind int

const (
	// SMTP: plain SMTP (STARTTLS available), default port 25.
	SMTP Kind = 0
	// SMTPSSL: TLS from the first byte (smtplib's SMTP_SSL), default port 465.
	SMTPSSL Kind = 1
	// LMTP: RFC 2033 (LHLO, one reply per recipient after the data),
	// default port 2003; an address starting with "/" is a Unix socket.
	LMTP Kind = 2
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
// connection. TimeoutAll sets every limit but TimeoutCall at once. A
// context's deadline ends a call too (with ErrCancelled).
type TimeoutKind int

const (
	// TimeoutConnect bounds establishing a connection, per address tried
	// (default 30 s).
	TimeoutConnect TimeoutKind = 0
	// TimeoutIO bounds each read or write (default 5 min).
	TimeoutIO TimeoutKind = 1
	// TimeoutReply bounds one whole reply to a command without a phase of
	// its own below, however slowly the server sends it (default 10 min).
	TimeoutReply TimeoutKind = 2
	// TimeoutGreeting bounds the greeting and a TLS handshake (default 5 min).
	TimeoutGreeting TimeoutKind = 3
	// TimeoutMail bounds the reply to MAIL (default 5 min).
	TimeoutMail TimeoutKind = 4
	// TimeoutRcpt bounds the reply to each RCPT (default 5 min).
	TimeoutRcpt TimeoutKind = 5
	// TimeoutData bounds the reply to DATA (default 2 min).
	TimeoutData TimeoutKind = 6
	// TimeoutDataBlock bounds each write of message data (default 3 min).
	TimeoutDataBlock TimeoutKind = 7
	// TimeoutFinalDot bounds the reply after the final dot (default 10 min).
	TimeoutFinalDot TimeoutKind = 8
	// TimeoutCall bounds the whole of one call, however many replies and
	// writes it takes, name lookup and connect included (default 0: no
	// limit). TimeoutAll does not set it.
	TimeoutCall TimeoutKind = 9
	// TimeoutAll is every limit above but TimeoutCall (connect, I/O, reply,
	// greeting, MAIL, RCPT, DATA, data block, final dot): SetTimeout sets
	// them all, so that no single wait lasts longer (smtplib's timeout, and
	// what WithTimeout sets). Timeout(TimeoutAll) is the longest of them, 0
	// when one of them is unlimited.
	TimeoutAll TimeoutKind = 10
)

// LineEndings is the line-ending policy of Data, SendMail, SendMessage,
// SendMailStream and SendMailBatch. In every mode a dot after any line
// break is doubled (no message can end DATA early) and the message ends in
// CRLF.
type LineEndings uint

const (
	// Normalize: lone CR and lone LF become CRLF (smtplib's str). The default.
	Normalize LineEndings = 0
	// Raw: the bytes as given (smtplib's bytes).
	Raw LineEndings = 1
	// RejectBareEOL: a lone CR or LF is ErrInvalidArgument before anything
	// is sent (SendMailStream: when it is read, the connection then
	// closed); otherwise as Raw.
	RejectBareEOL LineEndings = 2
)

// AuthFlag modifies Login, Auth, AuthBuiltin and the pool's SetLogin and
// SetAuth.
type AuthFlag uint

const (
	// NoInitialResponse: send AUTH without an initial response (smtplib's
	// initial_response_ok=False).
	NoInitialResponse AuthFlag = 1
	// AllowCleartext: allow PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER on a
	// connection that is neither TLS, a Unix socket nor loopback.
	AllowCleartext AuthFlag = 2
)

// TraceDirection tells what a trace line is about.
type TraceDirection int

const (
	TraceInfo TraceDirection = 0 // about the connection
	TraceSend TraceDirection = 1 // what the client sent
	TraceRecv TraceDirection = 2 // what the server sent
)

// Version is the version of the libsmtp found at run time ("0.1.0").
func Version() string {
	return C.GoString(C.smtp_lib_version())
}

// VersionNumber is the run-time library's version as one number, major<<16
// | minor<<8 | patch (smtp_lib_version_number).
func VersionNumber() uint32 {
	return uint32(C.smtp_lib_version_number())
}

// callbackGuard records the thread on which one of a Client's Go callbacks
// runs, so that a call on the same Client from inside it fails with
// ErrBadState instead of waiting forever for the Client's lock, while a
// call from another goroutine waits as usual. (A cgo callback runs on the
// thread of the C call, and its goroutine stays on that thread until it
// returns.) Callback state holds the guard, never the Client, so that a
// forgotten Client can still be finalized.
type callbackGuard struct {
	thread atomic.Uintptr // 0: no callback running
}

func currentThread() uintptr { return uintptr(C.libsmtp_go_thread()) }

// enter marks a callback as running on this thread; call the result when
// it returns. A nil guard (a pool's callbacks, shared by many sessions)
// marks nothing.
func (g *callbackGuard) enter() func() {
	if g == nil {
		return func() {}
	}
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
// A Client runs one call at a time. A call made while another runs on the
// same Client waits for it (calls queue, in no particular order); the
// wait ends early, with ErrCancelled, when the waiting call's context
// ends. Cancel is the exception: any goroutine may call it at any time.
type Client struct {
	// sem is the Client's lock: a call holds it (one token in the
	// channel) for as long as it runs. A channel rather than a sync.Mutex
	// so that a waiting call can give up when its context ends.
	sem chan struct{}
	// life guards the lifetime of s, never held across a network call:
	// Cancel holds it shared (without sem, which the call it cancels
	// holds); Close holds it exclusively (with sem) while it frees s and
	// sets it to nil. So s is read under sem or life, and written under
	// both.
	life        sync.RWMutex
	s           *C.smtp_session
	kind        Kind
	guard       *callbackGuard
	trace       *traceState // the trace function and its handle, nil when none
	lineEndings LineEndings
}

// New makes a session of kind k, not yet connected (smtplib's SMTP() with no
// host). An unknown kind is ErrInvalidArgument.
func New(k Kind, opts ...Option) (*Client, error) {
	cfg := config{kind: k}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg.newClient()
}

func (cfg *config) newClient() (*Client, error) {
	s := C.smtp_session_new(C.int(cfg.kind))
	if s == nil {
		return nil, &Error{Code: ErrInvalidArgument, Op: "new", Message: "unknown session kind " + cfg.kind.String()}
	}
	c := &Client{sem: make(chan struct{}, 1), s: s, kind: cfg.kind, guard: &callbackGuard{}}
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
// otherwise. ctx ends the connect when it is cancelled or its deadline
// passes.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	c, err := New(SMTP, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := c.Open(ctx, addr); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Kind is the session's kind.
func (c *Client) Kind() Kind { return c.kind }

// Disconnect drops the connection without QUIT (smtplib's close()); the
// Client stays usable and may Connect again.
func (c *Client) Disconnect() error {
	if err := c.begin("disconnect"); err != nil {
		return err
	}
	defer c.unlock()
	return c.check("disconnect", C.smtp_session_close(c.s))
}

// Close drops the connection without QUIT (call Quit first for a polite
// close) and frees the session. It waits for a call running on the Client
// (Cancel it first not to wait). It is idempotent; every other method
// then returns ErrBadState.
func (c *Client) Close() error {
	if c.guard.inside() {
		return &Error{Code: ErrBadState, Op: "close", Message: "called from inside one of the session's callbacks"}
	}
	c.sem <- struct{}{}
	defer c.unlock()
	if c.s == nil {
		return nil
	}
	// Wait for a Cancel that is using the session; later ones see nil.
	c.life.Lock()
	C.smtp_session_free(c.s)
	c.s = nil
	c.life.Unlock()
	if c.trace != nil {
		deleteHandle(c.trace.handle)
		c.trace = nil
	}
	runtime.SetFinalizer(c, nil)
	return nil
}

// Cancel ends the call running on the Client in another goroutine (Connect,
// SendMail, ...): that call returns an error with Code ErrCancelled within
// 100 ms (at once when it waits on the network; a callback of the call
// runs to its end first), and the connection is closed, so Connect again
// before the next command. A message whose final reply was not read is
// reported as not sent. Cancelling a call's context does the same.
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
