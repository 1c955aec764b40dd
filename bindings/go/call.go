package smtp

// How one call runs: the Client's lock, the context, and turning the
// library's result into an *Error. Also the C string helpers.

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// cancelRing is how often the watcher of a context rings
// smtp_session_cancel once the context has ended: a cancel while no
// library call runs does nothing (src/cancel.rs), so the one that falls
// between taking the lock and entering the library would be lost; ringing
// until the call returns cannot lose it, and ends the call within this
// period plus the library's reaction (well under 100 ms).
const cancelRing = 10 * time.Millisecond

// acquire takes the Client's lock for one call (see lockSem).
func (c *Client) acquire(ctx context.Context, op string) error {
	if err := lockSem(ctx, c.sem, c.guard, op, "session"); err != nil {
		return err
	}
	if c.s == nil {
		c.unlock()
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed Client"}
	}
	return nil
}

// lockSem takes a handle's lock (a one-token channel: a Client's or a
// Message's). A call from inside one of the handle's callbacks (guard)
// fails at once: it would wait for itself. With a context, the wait for a
// call running on another goroutine ends when the context does.
func lockSem(ctx context.Context, sem chan struct{}, guard *callbackGuard, op, owner string) error {
	if guard.inside() {
		return &Error{Code: ErrBadState, Op: op, Message: "called from inside one of the " + owner + "'s callbacks"}
	}
	if ctx == nil {
		sem <- struct{}{}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return contextError(op, err)
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return contextError(op, ctx.Err())
	}
}

// begin takes the lock for a call that does not wait on the network.
func (c *Client) begin(op string) error { return c.acquire(nil, op) }

func (c *Client) unlock() { <-c.sem }

// contextError is the error of a call its context ended before it began.
func contextError(op string, err error) error {
	return &Error{Code: ErrCancelled, Op: op, Message: "the context ended before the call began: " + err.Error(), Err: err}
}

// watch cancels the session's running call once ctx ends (see
// cancelRing). Call the result as soon as the library call has returned:
// it stops the watcher and waits for it, so that no cancel outlives the
// call it was meant for.
func watch(ctx context.Context, s *C.smtp_session) func() {
	if ctx == nil || ctx.Done() == nil {
		return func() {}
	}
	stop, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-stop:
			return
		case <-ctx.Done():
		}
		t := time.NewTicker(cancelRing)
		defer t.Stop()
		for {
			C.smtp_session_cancel(s)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(stop); <-exited }
}

// do runs one network call: it takes the lock (see acquire), runs f with
// ctx watched, turns its result into an error (see check and
// withContext), and, still holding the lock, gives that error to then
// (nil allowed), whose result it returns.
func (c *Client) do(ctx context.Context, op string, f func(s *C.smtp_session) C.int, then func(err error) error) error {
	if err := c.acquire(ctx, op); err != nil {
		return err
	}
	defer c.unlock()
	stop := watch(ctx, c.s)
	rc := f(c.s)
	stop()
	err := withContext(ctx, c.check(op, rc))
	if then != nil {
		return then(err)
	}
	return err
}

// doReply is do for a call that gives smtplib's (code, message).
func (c *Client) doReply(ctx context.Context, op string, f func(s *C.smtp_session, code *C.int) C.int) (Reply, error) {
	var r Reply
	err := c.do(ctx, op, func(s *C.smtp_session) C.int {
		var code C.int
		rc := f(s, &code)
		r.Code = int(code)
		return rc
	}, func(err error) error {
		if err == nil {
			r.Text = C.GoString(C.smtp_session_last_reply_text(c.s))
		}
		return err
	})
	if err != nil {
		return Reply{}, err
	}
	return r, nil
}

// withContext records, on an ErrCancelled error, the context's error as
// its cause when the context has ended (so that errors.Is finds
// context.DeadlineExceeded after a deadline).
func withContext(ctx context.Context, err error) error {
	var e *Error
	if ctx != nil && errors.As(err, &e) && e.Code == ErrCancelled && e.Err == nil {
		e.Err = ctx.Err()
	}
	return err
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
	if e.Code == ErrSenderRefused {
		e.Sender, _ = optGoString(C.smtp_session_sender(c.s))
	}
	return e
}

func optGoString(p *C.char) (string, bool) {
	if p == nil {
		return "", false
	}
	return C.GoString(p), true
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
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

func durationMS(d time.Duration) C.uint32_t {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<32-1 {
		return 1<<32 - 1
	}
	return C.uint32_t(ms)
}
