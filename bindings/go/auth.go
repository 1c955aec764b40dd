package smtp

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>

// The Go SASL step callback (callbacks.go), as cgo exports it.
extern int libsmtpGoSASLStep(void *, uint8_t *, size_t, smtp_sasl_exchange *);

// The userdata is a runtime/cgo.Handle (see libsmtp_go_set_trace).
static int libsmtp_go_auth(smtp_session *s, const char *mech, uintptr_t h, unsigned int flags)
{
	return smtp_session_auth_step(s, mech, (smtp_sasl_step_fn)libsmtpGoSASLStep, (void *)h, flags);
}
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"sync/atomic"
	"unsafe"
)

// Mechanism is the client side of a SASL mechanism (smtplib's authobject),
// for Client.Auth. The library does the base64 and the 334 loop.
type Mechanism interface {
	// Start gives the initial response sent with AUTH; ok false means the
	// mechanism has none (AUTH is sent without one). It is not called with
	// the NoInitialResponse flag.
	Start() (initial []byte, ok bool, err error)
	// Next answers one server challenge (base64-decoded; may be empty).
	Next(challenge []byte) ([]byte, error)
}

// MechanismFunc is a Mechanism without an initial response that answers
// each challenge with the function.
type MechanismFunc func(challenge []byte) ([]byte, error)

// Start reports no initial response.
func (f MechanismFunc) Start() ([]byte, bool, error) { return nil, false, nil }

// Next calls f.
func (f MechanismFunc) Next(challenge []byte) ([]byte, error) { return f(challenge) }

// Handles given to C, counted so that tests can check none leaks.
var liveHandles atomic.Int64

func newHandle(v interface{}) cgo.Handle {
	liveHandles.Add(1)
	return cgo.NewHandle(v)
}

func deleteHandle(h cgo.Handle) {
	h.Delete()
	liveHandles.Add(-1)
}

// saslCall is the state of one Auth call, or of a Pool's SetAuth, reached
// from the C callback through a cgo.Handle.
type saslCall struct {
	mech   Mechanism
	guard  *callbackGuard // nil for a pool's: no one Client to guard
	handle cgo.Handle
	// err is why an Auth exchange was aborted on the Go side (not kept for
	// a pool's, whose exchanges run on many goroutines at once).
	err error
}

func authFlags(flags []AuthFlag) C.uint {
	var f AuthFlag
	for _, x := range flags {
		f |= x
	}
	return C.uint(f)
}

// Login is smtplib's login: EHLO or HELO if needed, then each mechanism of
// the session's list (default CRAM-MD5, PLAIN, LOGIN; SetAuthMechanisms)
// that the server advertises, until one succeeds. No AUTH advertised is
// ErrNotSupported; every one refused is ErrAuth with the last refusal;
// none usable is ErrSMTP, or ErrNotEncrypted when only cleartext ones were
// usable on an unprotected connection (see AllowCleartext).
func (c *Client) Login(ctx context.Context, user, password string, flags ...AuthFlag) error {
	cu, err := cstring("login", "user", user)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cu))
	cp, err := cstring("login", "password", password)
	if err != nil {
		return err
	}
	defer func() {
		wipeC(cp, len(password))
		C.free(unsafe.Pointer(cp))
	}()
	return c.do(ctx, "login", func(s *C.smtp_session) C.int {
		return C.smtp_session_login(s, cu, cp, authFlags(flags))
	}, nil)
}

func wipeC(p *C.char, n int) {
	if p != nil && n > 0 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(p)), n)
		for i := range b {
			b[i] = 0
		}
	}
}

// Auth is smtplib's auth(mechanism, authobject) with m computing the
// responses (of any length: smtp_session_auth_step). 235 (or 503, already
// authenticated) is success; another reply is ErrAuth. m returning an
// error, or panicking, aborts the exchange (the library sends "*"):
// ErrAuthAborted, with the error or a *CallbackPanic as Error.Err. The
// session stays usable. Unlike Login it does not send EHLO first. m is
// called on this goroutine, only during the call, and must not call the
// Client (ErrBadState).
func (c *Client) Auth(ctx context.Context, mechanism string, m Mechanism, flags ...AuthFlag) error {
	if m == nil {
		return &Error{Code: ErrNullArgument, Op: "auth", Message: "nil Mechanism"}
	}
	cm, err := cstring("auth", "mechanism", mechanism)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cm))
	call := &saslCall{mech: m, guard: c.guard}
	call.handle = newHandle(call)
	defer deleteHandle(call.handle)
	err = c.do(ctx, "auth", func(s *C.smtp_session) C.int {
		return C.libsmtp_go_auth(s, cm, C.uintptr_t(call.handle), authFlags(flags))
	}, nil)
	if e, ok := err.(*Error); ok && call.err != nil && e.Err == nil {
		e.Err = call.err
	}
	return err
}

// AuthBuiltin authenticates with one built-in mechanism alone (CRAM-MD5,
// PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER); secret is the
// password, or the access token for XOAUTH2 and OAUTHBEARER. Results as
// Auth; a refused OAuth token has the provider's JSON error in the
// Error's Message.
func (c *Client) AuthBuiltin(ctx context.Context, mechanism, user, secret string, flags ...AuthFlag) error {
	cm, err := cstring("auth_builtin", "mechanism", mechanism)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cm))
	cu, err := cstring("auth_builtin", "user", user)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cu))
	cs, err := cstring("auth_builtin", "secret", secret)
	if err != nil {
		return err
	}
	defer func() {
		wipeC(cs, len(secret))
		C.free(unsafe.Pointer(cs))
	}()
	return c.do(ctx, "auth_builtin", func(s *C.smtp_session) C.int {
		return C.smtp_session_auth_builtin(s, cm, cu, cs, authFlags(flags))
	}, nil)
}
