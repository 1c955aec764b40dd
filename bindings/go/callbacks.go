package smtp

// The C callbacks, exported from Go. A file with //export may declare but
// not define C functions in its preamble; the trampolines that pass these
// to the library are in client.go.

/*
#include <stdint.h>
#include <stddef.h>
#include <smtp.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"unsafe"
)

// libsmtpGoSASL is the smtp_sasl_fn of Client.Auth. No panic may leave it:
// one is recovered, kept as the cause, and the verdict is 0 (abort).
//
//export libsmtpGoSASL
func libsmtpGoSASL(userdata unsafe.Pointer, challenge *C.uint8_t, challengeLen C.size_t,
	response *C.uint8_t, responseCap C.size_t, responseLen *C.size_t) (verdict C.int) {
	var call *saslCall
	defer func() {
		if r := recover(); r != nil {
			if call != nil {
				call.err = &CallbackPanic{Value: r, Stack: debug.Stack()}
			}
			verdict = 0
		}
	}()
	call = cgo.Handle(uintptr(userdata)).Value().(*saslCall)
	defer call.guard.enter()()

	var resp []byte
	fromPending := call.pending != nil
	switch {
	case fromPending:
		resp, call.pending = call.pending, nil
	case challenge == nil:
		ir, ok, err := call.mech.Start()
		if err != nil {
			call.err = err
			return 0
		}
		if !ok {
			return C.SMTP_SASL_NO_INITIAL_RESPONSE
		}
		resp = ir
	default:
		ch := make([]byte, int(challengeLen))
		copy(ch, unsafe.Slice((*byte)(unsafe.Pointer(challenge)), int(challengeLen)))
		r, err := call.mech.Next(ch)
		if err != nil {
			call.err = err
			return 0
		}
		resp = r
	}
	if len(resp) > int(responseCap) {
		if !fromPending {
			// Ask for a buffer that large; the next call gets resp.
			call.pending = resp
			*responseLen = C.size_t(len(resp))
			return C.SMTP_SASL_NEED_SPACE
		}
		call.err = errors.New(fmt.Sprint("SASL response of ", len(resp), " bytes does not fit the library's buffer"))
		return 0
	}
	if len(resp) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(response)), int(responseCap)), resp)
	}
	*responseLen = C.size_t(len(resp))
	return C.SMTP_SASL_CONTINUE
}

// traceState is the state of a Client's trace function.
type traceState struct {
	fn    func(TraceDirection, string)
	guard *callbackGuard
}

// libsmtpGoTrace is the smtp_trace_fn of Client.SetTrace. A panic in the
// Go function is recovered and the line dropped.
//
//export libsmtpGoTrace
func libsmtpGoTrace(userdata unsafe.Pointer, direction C.int, line *C.char, n C.size_t) {
	defer func() { _ = recover() }()
	st := cgo.Handle(uintptr(userdata)).Value().(*traceState)
	s := C.GoStringN(line, C.int(n))
	defer st.guard.enter()()
	st.fn(TraceDirection(direction), s)
}
