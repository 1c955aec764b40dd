package smtp

// SendMailStream: a message read from an io.Reader while it is sent
// (smtp_session_sendmail_stream with an smtp_read_fn in Go, callbacks.go).

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>

// The Go reader callback (callbacks.go), as cgo exports it.
extern ptrdiff_t libsmtpGoRead(void *, uint8_t *, size_t);

// The userdata is a runtime/cgo.Handle (see libsmtp_go_set_trace).
static int libsmtp_go_sendmail_stream(smtp_session *s, const char *from, char **to, size_t n_to,
	uintptr_t h, int64_t size, char **mo, size_t n_mo, char **ro, size_t n_ro, unsigned int flags)
{
	return smtp_session_sendmail_stream(s, from, (const char *const *)to, n_to, (smtp_read_fn)libsmtpGoRead,
		(void *)h, size, (const char *const *)mo, n_mo, (const char *const *)ro, n_ro, flags, NULL, NULL);
}
*/
import "C"

import (
	"context"
	"errors"
	"io"
)

// streamCall is the state of one SendMailStream, reached from the C
// callback through a cgo.Handle.
type streamCall struct {
	r     io.Reader
	ctx   context.Context
	guard *callbackGuard
	eof   bool
	// pending is an error the reader returned with data: given at the
	// next read.
	pending error
	// err is why the message was aborted on the Go side.
	err error
}

// read fills p from the reader: the count, 0 at the end, -1 to abort.
func (st *streamCall) read(p []byte) int {
	if st.eof {
		return 0
	}
	if st.pending != nil {
		st.err = st.pending
		return -1
	}
	// A Reader may return 0, nil; give up after many in a row, as bufio does.
	for tries := 0; tries < 100; tries++ {
		// The context cannot interrupt a Read; it is checked between them.
		if st.ctx != nil && st.ctx.Err() != nil {
			st.err = st.ctx.Err()
			return -1
		}
		n, err := st.r.Read(p)
		if n < 0 || n > len(p) {
			st.err = errors.New("smtp: the reader returned an invalid count")
			return -1
		}
		switch {
		case err == io.EOF:
			st.eof = true
			return n
		case err != nil && n > 0:
			st.pending = err
			return n
		case err != nil:
			st.err = err
			return -1
		case n > 0:
			return n
		}
	}
	st.err = io.ErrNoProgress
	return -1
}

// SendMailStream is SendMail with the message read from r while it is
// sent, so that a message larger than memory can go: line endings per
// SetLineEndings (under RejectBareEOL a lone CR or LF is found only when
// read: ErrInvalidArgument, the connection closed mid-message), dots
// doubled or BDAT chunks on the fly, never the whole message in memory.
// size is the message's size when known (announced as SIZE= and checked
// against the server's limit), or -1. r is read on this goroutine during
// the call only. When r fails (or panics) the call is aborted with the
// connection closed mid-message, so that no partial message is delivered:
// ErrIO with r's error (or a *CallbackPanic) as Error.Err. The context is
// checked between reads (a Read that blocks is not interrupted). Results
// as SendMail.
func (c *Client) SendMailStream(ctx context.Context, from string, to []string, r io.Reader, size int64,
	opts ...SendOption) (map[string]Reply, error) {
	const op = "sendmail_stream"
	if r == nil {
		return nil, &Error{Code: ErrNullArgument, Op: op, Message: "nil io.Reader"}
	}
	if size < 0 {
		size = -1
	}
	a, err := newSendArgs(op, &from, to, opts)
	if err != nil {
		return nil, err
	}
	defer a.free()
	st := &streamCall{r: r, ctx: ctx, guard: c.guard}
	h := newHandle(st)
	defer deleteHandle(h)
	refused, err := c.send(ctx, op, func(s *C.smtp_session) C.int {
		return C.libsmtp_go_sendmail_stream(s, a.from, a.to.arr, a.to.len(), C.uintptr_t(h), C.int64_t(size),
			a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), C.uint(c.lineEndings))
	})
	var e *Error
	if errors.As(err, &e) && st.err != nil && e.Err == nil {
		e.Err = st.err
		if ctx != nil && errors.Is(st.err, ctx.Err()) {
			// The reader stopped because the context ended.
			e.Code = ErrCancelled
		}
	}
	return refused, err
}
