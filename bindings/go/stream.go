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
	pull
	ctx   context.Context
	guard *callbackGuard
	// err is why the message was aborted on the Go side.
	err error
}

// read fills p from the reader: the count, 0 at the end, -1 to abort.
func (st *streamCall) read(p []byte) int {
	n, err := st.pull.read(st.ctx, p)
	if err != nil {
		st.err = err
		return -1
	}
	return n
}

// pull reads an io.Reader for a C read callback (smtp_read_fn): for
// SendMailStream and for Message.AttachReader.
type pull struct {
	r   io.Reader
	eof bool
	// pending is an error the reader returned with data: given at the
	// next read.
	pending error
}

// read fills p from the reader: the count, 0 at the end, or the error
// that aborts the message.
func (pl *pull) read(ctx context.Context, p []byte) (int, error) {
	if pl.eof {
		return 0, nil
	}
	if pl.pending != nil {
		return 0, pl.pending
	}
	// A Reader may return 0, nil; give up after many in a row, as bufio does.
	for tries := 0; tries < 100; tries++ {
		// The context cannot interrupt a Read; it is checked between them.
		if ctx != nil && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		n, err := pl.r.Read(p)
		if n < 0 || n > len(p) {
			return 0, errors.New("smtp: the reader returned an invalid count")
		}
		switch {
		case err == io.EOF:
			pl.eof = true
			return n, nil
		case err != nil && n > 0:
			pl.pending = err
			return n, nil
		case err != nil:
			return 0, err
		case n > 0:
			return n, nil
		}
	}
	return 0, io.ErrNoProgress
}

// withCause records, on an *Error, the Go-side cause of an aborted
// message (a reader's error, a *CallbackPanic), unless it has one; a
// reader stopped by the context makes it ErrCancelled.
func withCause(ctx context.Context, err, cause error) error {
	var e *Error
	if errors.As(err, &e) && cause != nil && e.Err == nil {
		e.Err = cause
		if ctx != nil && ctx.Err() != nil && errors.Is(cause, ctx.Err()) {
			// The reader stopped because the context ended.
			e.Code = ErrCancelled
		}
	}
	return err
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
	st := &streamCall{pull: pull{r: r}, ctx: ctx, guard: c.guard}
	h := newHandle(st)
	defer deleteHandle(h)
	refused, err := c.send(ctx, op, func(s *C.smtp_session) C.int {
		return C.libsmtp_go_sendmail_stream(s, a.from, a.to.arr, a.to.len(), C.uintptr_t(h), C.int64_t(size),
			a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), C.uint(c.lineEndings))
	})
	return refused, withCause(ctx, err, st.err)
}
