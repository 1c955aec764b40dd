package smtp

// Pool: a connection pool (smtp_pool_*) shared by goroutines. Each pool
// call runs on a session of its own, taken from the Pool's idle sessions
// (made with the Pool's options), which the library lends a connection
// for the call; so the session's timeouts, trace, envelope, switches and
// cancel apply to the call, and its results are read as after a Client's.

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>

// The Go SASL step callback (callbacks.go), as cgo exports it.
extern int libsmtpGoSASLStep(void *, uint8_t *, size_t, smtp_sasl_exchange *);

// The userdata is a runtime/cgo.Handle (see libsmtp_go_set_trace).
static int libsmtp_go_pool_set_auth(smtp_pool *p, const char *mech, uintptr_t h, unsigned int flags)
{
	return smtp_pool_set_auth_step(p, mech, h ? (smtp_sasl_step_fn)libsmtpGoSASLStep : NULL, (void *)h, flags);
}
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// PoolOption is a setting of a Pool (SMTP_POOL_*), for SetOption.
type PoolOption int

const (
	// PoolStartTLS: 1 to send STARTTLS (and EHLO again) on every new
	// connection before it is used; the TLS configuration is the options'.
	PoolStartTLS PoolOption = 0
	// PoolMaxMessages: close a connection (QUIT) after it carried this
	// many messages; 0 (the default) no limit.
	PoolMaxMessages PoolOption = 1
	// PoolMaxIdleMS: close instead of reusing a connection idle longer
	// than this many milliseconds; 0 no limit.
	PoolMaxIdleMS PoolOption = 2
	// PoolProbeIdleMS: probe with NOOP, before reuse, a connection idle
	// longer than this many milliseconds.
	PoolProbeIdleMS PoolOption = 3
	// PoolRate: messages per second at most, over the whole pool; 0 no limit.
	PoolRate PoolOption = 4
	// PoolMaxConnections: connections open at most (at least 1).
	PoolMaxConnections PoolOption = 5
)

// PoolStat is a counter of a Pool (SMTP_POOL_STAT_*), for Stat.
type PoolStat int

const (
	PoolOpened      PoolStat = 0 // connections opened since the pool was made
	PoolOpen        PoolStat = 1 // connections open now, lent or idle
	PoolIdle        PoolStat = 2 // connections idle now
	PoolSent        PoolStat = 3 // messages reported sent
	PoolRetried     PoolStat = 4 // messages sent again on a new connection
	PoolProbed      PoolStat = 5 // idle connections probed before reuse
	PoolProbeFailed PoolStat = 6 // probed connections found dead
	PoolRetired     PoolStat = 7 // connections closed for PoolMaxMessages or PoolMaxIdleMS
	PoolUnknown     PoolStat = 8 // messages that ended with ErrOutcomeUnknown
)

// Pool keeps up to a number of connections to one server and sends
// messages on them for any number of goroutines at once. Make it with
// NewPool; Close it when done.
//
// A message is delivered at most once by the pool and reported sent only
// when the server said so: a connection that died before the message's
// data went out in full is replaced and the message sent again on the new
// one (at most twice); once the data went out, an undecided message is
// ErrOutcomeUnknown, never sent again.
type Pool struct {
	// mu: calls hold it shared, Close exclusively (the library forbids
	// freeing a pool a call runs on).
	mu   sync.RWMutex
	p    *C.smtp_pool
	cfg  config
	auth *saslCall // the SetAuth mechanism, nil when none

	idleMu sync.Mutex
	idle   []*Client // sessions not in a call
}

// NewPool makes a pool of at most maxConnections connections to addr (as
// for Dial). opts configure every session of the pool: those copied into
// the pool now (kind, local hostname, source address, proxy, TLS
// configuration, TLS requirement, auth mechanisms, loopback trust) and
// those that apply to each call (timeouts, trace, envelope, line endings,
// pipelining, chunking). Connections open on demand.
func NewPool(addr string, maxConnections int, opts ...Option) (*Pool, error) {
	const op = "pool_new"
	cfg := config{kind: SMTP}
	for _, o := range opts {
		o(&cfg)
	}
	host, port, err := splitAddr(op, addr)
	if err != nil {
		return nil, err
	}
	if maxConnections < 1 || uint64(maxConnections) > math.MaxUint32 {
		return nil, &Error{Code: ErrInvalidArgument, Op: op, Message: "maxConnections must be at least 1"}
	}
	ch, err := cstring(op, "host", host)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ch))
	like, err := cfg.newClient()
	if err != nil {
		return nil, err
	}
	defer like.Close()
	var p *C.smtp_pool
	if err := like.check(op, C.smtp_pool_new(like.s, ch, C.uint16_t(port), C.uint(maxConnections), &p)); err != nil {
		return nil, err
	}
	pool := &Pool{p: p, cfg: cfg}
	runtime.SetFinalizer(pool, (*Pool).Close)
	return pool, nil
}

func (p *Pool) begin(op string) error {
	p.mu.RLock()
	if p.p == nil {
		p.mu.RUnlock()
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed Pool"}
	}
	return nil
}

func poolError(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return &Error{Code: Code(rc), Op: op, Message: C.GoString(C.smtp_result_str(rc))}
}

// SetOption sets one of the pool's options, at any time, from any
// goroutine; it applies to the calls that start after it.
func (p *Pool) SetOption(o PoolOption, value uint64) error {
	if err := p.begin("pool_set_option"); err != nil {
		return err
	}
	defer p.mu.RUnlock()
	return poolError("pool_set_option", C.smtp_pool_set_option(p.p, C.int(o), C.uint64_t(value)))
}

// Stat reads one of the pool's counters (0 for an unknown one or a closed
// Pool).
func (p *Pool) Stat(s PoolStat) uint64 {
	if p.begin("pool_stat") != nil {
		return 0
	}
	defer p.mu.RUnlock()
	return uint64(C.smtp_pool_stat(p.p, C.int(s)))
}

// SetLogin authenticates every new connection as Client.Login would
// (flags as there). The pool keeps a copy of the credentials, wiped when
// replaced or when the pool is closed. An empty user removes them.
func (p *Pool) SetLogin(user, password string, flags ...AuthFlag) error {
	const op = "pool_set_login"
	cu, err := optCString(op, "user", user)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cu))
	cp, err := cstring(op, "password", password)
	if err != nil {
		return err
	}
	defer func() {
		wipeC(cp, len(password))
		C.free(unsafe.Pointer(cp))
	}()
	if err := p.begin(op); err != nil {
		return err
	}
	defer p.mu.RUnlock()
	return poolError(op, C.smtp_pool_set_login(p.p, cu, cp, authFlags(flags)))
}

// SetAuth authenticates every new connection with mechanism and m, as
// Client.Auth would (flags as there); nil m removes it. m runs on the
// goroutine of the pool call that opens the connection, on several at once
// when several open: it must be safe for concurrent use and keep no state
// from one exchange to the next (Start begins each exchange only when
// initial responses are allowed). For mechanisms with state (SCRAM) use
// SetLogin with WithAuthMechanisms.
func (p *Pool) SetAuth(mechanism string, m Mechanism, flags ...AuthFlag) error {
	const op = "pool_set_auth"
	cm, err := cstring(op, "mechanism", mechanism)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cm))
	// Exclusive: no call may be using the mechanism being replaced.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil {
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed Pool"}
	}
	var call *saslCall
	var h cgo.Handle
	if m != nil {
		call = &saslCall{mech: m}
		h = newHandle(call)
		call.handle = h
	}
	if err := poolError(op, C.libsmtp_go_pool_set_auth(p.p, cm, C.uintptr_t(h), authFlags(flags))); err != nil {
		if call != nil {
			deleteHandle(h)
		}
		return err
	}
	if p.auth != nil {
		deleteHandle(p.auth.handle)
	}
	p.auth = call
	return nil
}

// session takes an idle session of the pool, or makes one.
func (p *Pool) session() (*Client, error) {
	p.idleMu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.idleMu.Unlock()
		return c, nil
	}
	p.idleMu.Unlock()
	return p.cfg.newClient()
}

func (p *Pool) release(c *Client) {
	p.idleMu.Lock()
	p.idle = append(p.idle, c)
	p.idleMu.Unlock()
}

// run runs one pool call on a session of the pool.
func (p *Pool) run(ctx context.Context, op string, f func(pool *C.smtp_pool, c *Client) error) error {
	if err := p.begin(op); err != nil {
		return err
	}
	defer p.mu.RUnlock()
	c, err := p.session()
	if err != nil {
		return err
	}
	defer p.release(c)
	return f(p.p, c)
}

// SendMail is Client.SendMail through the pool: the pool lends the call a
// connection (an idle one, probed if it sat long; else a new one, opened
// and authenticated; else it waits for one), and takes it back. The
// context (and TimeoutCall) bound all of it, the wait for a connection
// included. Results as Client.SendMail; ErrOutcomeUnknown when the data
// went out and no reply decided it.
func (p *Pool) SendMail(ctx context.Context, from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	const op = "pool_sendmail"
	a, err := newSendArgs(op, &from, to, opts)
	if err != nil {
		return nil, err
	}
	defer a.free()
	return p.send(ctx, op, func(pool *C.smtp_pool, s *C.smtp_session, flags C.uint) C.int {
		return C.smtp_pool_sendmail(pool, s, a.from, a.to.arr, a.to.len(), bytesPtr(msg), C.size_t(len(msg)),
			a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), flags, nil, nil)
	})
}

// send runs a send through the pool on a session of the pool: f makes the
// C call with the session and its line-ending flags.
func (p *Pool) send(ctx context.Context, op string, f func(pool *C.smtp_pool, s *C.smtp_session, flags C.uint) C.int) (map[string]Reply, error) {
	var refused map[string]Reply
	err := p.run(ctx, op, func(pool *C.smtp_pool, c *Client) (err error) {
		refused, err = c.send(ctx, op, func(s *C.smtp_session) C.int { return f(pool, s, C.uint(c.lineEndings)) })
		return err
	})
	return refused, err
}

// SendMessage is Client.SendMessage through the pool (see SendMail).
func (p *Pool) SendMessage(ctx context.Context, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	const op = "pool_send_message"
	a, err := newSendArgs(op, nil, nil, opts)
	if err != nil {
		return nil, err
	}
	defer a.free()
	return p.send(ctx, op, func(pool *C.smtp_pool, s *C.smtp_session, flags C.uint) C.int {
		return C.smtp_pool_send_message(pool, s, bytesPtr(msg), C.size_t(len(msg)), a.from, a.to.arr, a.to.len(),
			a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), flags, nil)
	})
}

// SendMailBatch is Client.SendMailBatch through the pool: the messages go
// on one lent connection; those a dying connection left unsent go again on
// a new one, and one whose data went out without a deciding reply gets
// ErrOutcomeUnknown.
func (p *Pool) SendMailBatch(ctx context.Context, msgs []BatchMessage) ([]BatchResult, error) {
	const op = "pool_sendmail_batch"
	var out []BatchResult
	err := p.run(ctx, op, func(pool *C.smtp_pool, c *Client) error {
		b, err := newBatch(op, msgs, c.lineEndings)
		if err != nil {
			return err
		}
		defer b.free()
		return c.do(ctx, op, func(s *C.smtp_session) C.int {
			return C.smtp_pool_sendmail_batch(pool, s, b.base, C.size_t(len(b.items)))
		}, func(err error) error {
			out = b.results(op, err)
			return err
		})
	})
	return out, err
}

// Close frees the pool and closes its idle connections (without QUIT). It
// waits for the calls running on the pool. It is idempotent; the other
// methods then return ErrBadState.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil {
		return nil
	}
	C.smtp_pool_free(p.p)
	p.p = nil
	if p.auth != nil {
		deleteHandle(p.auth.handle)
		p.auth = nil
	}
	p.idleMu.Lock()
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
	p.idleMu.Unlock()
	runtime.SetFinalizer(p, nil)
	return nil
}
