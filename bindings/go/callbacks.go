package smtp

// The C callbacks, exported from Go. A file with //export may declare but
// not define C functions in its preamble; the trampolines that pass these
// to the library are in settings.go, auth.go, pool.go and stream.go.
// No panic may leave a callback into C: each recovers.

/*
#include <stddef.h>
#include <stdint.h>
#include <smtp.h>
*/
import "C"

import (
	"runtime/cgo"
	"runtime/debug"
	"unsafe"
)

// libsmtpGoSASLStep is the smtp_sasl_step_fn of Client.Auth and
// Pool.SetAuth: the response, of any length, goes back through
// smtp_sasl_respond. A panic is recovered, kept as the cause, and the
// verdict is 0 (abort).
//
//export libsmtpGoSASLStep
func libsmtpGoSASLStep(userdata unsafe.Pointer, challenge *C.uint8_t, challengeLen C.size_t,
	x *C.smtp_sasl_exchange) (verdict C.int) {
	var call *saslCall
	defer func() {
		if r := recover(); r != nil {
			if call != nil && call.guard != nil {
				call.err = &CallbackPanic{Value: r, Stack: debug.Stack()}
			}
			verdict = 0
		}
	}()
	call = cgo.Handle(uintptr(userdata)).Value().(*saslCall)
	defer call.guard.enter()()
	fail := func(err error) C.int {
		if call.guard != nil {
			call.err = err
		}
		return 0
	}

	var resp []byte
	if challenge == nil {
		ir, ok, err := call.mech.Start()
		if err != nil {
			return fail(err)
		}
		if !ok {
			return C.SMTP_SASL_NO_INITIAL_RESPONSE
		}
		resp = ir
	} else {
		ch := C.GoBytes(unsafe.Pointer(challenge), C.int(challengeLen))
		r, err := call.mech.Next(ch)
		if err != nil {
			return fail(err)
		}
		resp = r
	}
	if len(resp) > 0 {
		// The library copies the response (and wipes its copy once sent).
		if rc := C.smtp_sasl_respond(x, (*C.uint8_t)(unsafe.Pointer(&resp[0])), C.size_t(len(resp))); rc != 0 {
			return fail(&Error{Code: Code(rc), Op: "sasl_respond", Message: C.GoString(C.smtp_result_str(rc))})
		}
	}
	return C.SMTP_SASL_CONTINUE
}

// traceState is the state of a Client's trace function.
type traceState struct {
	fn     func(TraceDirection, string)
	guard  *callbackGuard
	handle cgo.Handle
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

// libsmtpGoRead is the smtp_read_fn of SendMailStream: it fills the
// library's buffer from the io.Reader. A panic is recovered, kept as the
// cause, and the read aborts (-1).
//
//export libsmtpGoRead
func libsmtpGoRead(userdata unsafe.Pointer, buf *C.uint8_t, capacity C.size_t) (n C.ptrdiff_t) {
	var st *streamCall
	defer func() {
		if r := recover(); r != nil {
			if st != nil {
				st.err = &CallbackPanic{Value: r, Stack: debug.Stack()}
			}
			n = -1
		}
	}()
	st = cgo.Handle(uintptr(userdata)).Value().(*streamCall)
	defer st.guard.enter()()
	if capacity == 0 {
		return 0
	}
	return C.ptrdiff_t(st.read(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(capacity))))
}
