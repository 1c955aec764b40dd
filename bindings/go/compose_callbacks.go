package smtp

// The C callbacks of a Message, exported from Go: its reader
// attachments' read and rewind (smtp_read_fn, smtp_rewind_fn) and the
// writer of WriteTo (smtp_write_fn). As in callbacks.go, the preamble only
// declares; the trampolines are in message.go. No panic may leave a
// callback into C: each recovers, keeps the panic as the call's cause and
// fails the call.

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"io"
	"runtime/cgo"
	"runtime/debug"
	"unsafe"
)

// readerPart is an attachment of Message.AttachReader, reached from the C
// callbacks through a cgo.Handle. It reaches the message's state, never
// the Message.
type readerPart struct {
	pull
	seeker io.Seeker // nil: it can be read once
	start  int64     // where the seeker was when attached
	st     *composeState
}

// enter marks the part's callbacks as running on this thread, for the
// message and for a sending Client; call the result when they return.
func (part *readerPart) enter(call *composeCall) func() {
	leaveMessage := part.st.guard.enter()
	leaveClient := call.client.enter()
	return func() { leaveClient(); leaveMessage() }
}

// recoverPart turns a panic in a part's callback into the call's cause.
func recoverPart(part *readerPart, r interface{}) {
	if part != nil && part.st.call != nil {
		part.st.call.fail(&CallbackPanic{Value: r, Stack: debug.Stack()})
	}
}

// libsmtpGoPartRead is the smtp_read_fn of a reader attachment: it fills
// the library's buffer from the io.Reader, checking the send's context
// between reads. An error or a panic is kept as the cause and the read
// aborts (-1).
//
//export libsmtpGoPartRead
func libsmtpGoPartRead(userdata unsafe.Pointer, buf *C.uint8_t, capacity C.size_t) (n C.ptrdiff_t) {
	var part *readerPart
	defer func() {
		if r := recover(); r != nil {
			recoverPart(part, r)
			n = -1
		}
	}()
	part = cgo.Handle(uintptr(userdata)).Value().(*readerPart)
	call := part.st.call
	if call == nil {
		return -1 // only a write or send of the message reads it
	}
	defer part.enter(call)()
	if capacity == 0 {
		return 0
	}
	k, err := part.read(call.ctx, unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(capacity)))
	if err != nil {
		call.fail(err)
		return -1
	}
	return C.ptrdiff_t(k)
}

// libsmtpGoPartRewind is the smtp_rewind_fn of a reader attachment that
// is an io.Seeker: back to where it was when attached. 0 when done; a
// failing Seek or a panic is kept as the cause and fails the call.
//
//export libsmtpGoPartRewind
func libsmtpGoPartRewind(userdata unsafe.Pointer) (rc C.int) {
	var part *readerPart
	defer func() {
		if r := recover(); r != nil {
			recoverPart(part, r)
			rc = 1
		}
	}()
	part = cgo.Handle(uintptr(userdata)).Value().(*readerPart)
	call := part.st.call
	if call == nil {
		return 1
	}
	defer part.enter(call)()
	if _, err := part.seeker.Seek(part.start, io.SeekStart); err != nil {
		call.fail(err)
		return 1
	}
	part.eof, part.pending = false, nil
	return 0
}

// writeCall is the state of one Message.WriteTo.
type writeCall struct {
	w     io.Writer
	guard *callbackGuard // the message's
	n     int64
	err   error // why the write stopped on the Go side
}

// libsmtpGoWrite is the smtp_write_fn of WriteTo: each piece goes to the
// io.Writer (which must not keep it: io.Writer's rule). An error, a short
// write or a panic is kept as the cause and stops the write (1).
//
//export libsmtpGoWrite
func libsmtpGoWrite(userdata unsafe.Pointer, buf *C.uint8_t, n C.size_t) (rc C.int) {
	var wc *writeCall
	defer func() {
		if r := recover(); r != nil {
			if wc != nil {
				wc.err = &CallbackPanic{Value: r, Stack: debug.Stack()}
			}
			rc = 1
		}
	}()
	wc = cgo.Handle(uintptr(userdata)).Value().(*writeCall)
	defer wc.guard.enter()()
	if n == 0 {
		return 0
	}
	k, err := wc.w.Write(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
	if k < 0 || k > int(n) {
		k = 0
	}
	wc.n += int64(k)
	if err == nil && k < int(n) {
		err = io.ErrShortWrite
	}
	if err != nil {
		wc.err = err
		return 1
	}
	return 0
}
