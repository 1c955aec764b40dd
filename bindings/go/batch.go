package smtp

// SendMailBatch: many messages on one session (smtp_session_sendmail_batch
// and smtp_pool_sendmail_batch).

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <smtp.h>
*/
import "C"

import (
	"context"
	"unsafe"
)

// BatchMessage is one message of SendMailBatch, as SendMail's arguments.
type BatchMessage struct {
	From string
	To   []string
	Msg  []byte
}

// BatchResult is one message's outcome in SendMailBatch.
type BatchResult struct {
	// Err is nil when the message was sent (at least one recipient and the
	// data accepted), else an *Error as SendMail would return (the first
	// failure carries the session's detailed message; the others the
	// code's description).
	Err error
	// RcptCodes is each recipient's reply code in To's order: the RCPT
	// reply, on LMTP the reply after the data for a recipient accepted at
	// RCPT; 0 where no reply was read.
	RcptCodes []int
	// Refused lists the recipients whose code is not 250 or 251, for a
	// message sent or refused with ErrRecipientsRefused (nil otherwise).
	Refused []string
}

// batch is a batch's items in C memory: the library reads them after Go
// has handed them over, and cgo forbids storing Go pointers in C memory,
// so each message is copied.
type batch struct {
	items []C.smtp_batch_item
	base  *C.smtp_batch_item
	frees []unsafe.Pointer
	to    []*cstrings
	msgs  []BatchMessage
}

func newBatch(op string, msgs []BatchMessage, flags LineEndings) (*batch, error) {
	b := &batch{msgs: msgs}
	if len(msgs) == 0 {
		return b, nil
	}
	b.base = (*C.smtp_batch_item)(C.calloc(C.size_t(len(msgs)), C.size_t(unsafe.Sizeof(C.smtp_batch_item{}))))
	b.items = unsafe.Slice(b.base, len(msgs))
	for i, m := range msgs {
		it := &b.items[i]
		from, err := cstring(op, "sender", m.From)
		if err != nil {
			b.free()
			return nil, err
		}
		b.frees = append(b.frees, unsafe.Pointer(from))
		to, err := newCStrings(op, "recipient", m.To)
		if err != nil {
			b.free()
			return nil, err
		}
		b.to = append(b.to, to)
		it.from = from
		it.to = to.arr
		it.to_count = to.len()
		if len(m.Msg) > 0 {
			p := C.CBytes(m.Msg)
			b.frees = append(b.frees, p)
			it.msg = (*C.uint8_t)(p)
		}
		it.len = C.size_t(len(m.Msg))
		it.flags = C.uint(flags)
		if len(m.To) > 0 {
			codes := C.calloc(C.size_t(len(m.To)), C.size_t(unsafe.Sizeof(C.int(0))))
			b.frees = append(b.frees, codes)
			it.rcpt_codes = (*C.int)(codes)
		}
	}
	return b, nil
}

func (b *batch) free() {
	for _, p := range b.frees {
		C.free(p)
	}
	for _, t := range b.to {
		t.free()
	}
	C.free(unsafe.Pointer(b.base))
	b.frees, b.to, b.base, b.items = nil, nil, nil, nil
}

// results reads the outputs; err is the call's error (the first failure),
// given to the first item that failed with its code.
func (b *batch) results(op string, err error) []BatchResult {
	out := make([]BatchResult, len(b.items))
	first := true
	for i := range b.items {
		it := &b.items[i]
		r := &out[i]
		n := len(b.msgs[i].To)
		if n > 0 {
			for _, c := range unsafe.Slice(it.rcpt_codes, n) {
				r.RcptCodes = append(r.RcptCodes, int(c))
			}
		}
		code := Code(it.result)
		if code != 0 {
			if e, ok := err.(*Error); ok && first && e.Code == code {
				r.Err = e
				first = false
			} else {
				r.Err = &Error{Code: code, Op: op, Message: C.GoString(C.smtp_result_str(it.result))}
			}
		}
		if code == 0 || code == ErrRecipientsRefused {
			for j, c := range r.RcptCodes {
				if c != 250 && c != 251 {
					r.Refused = append(r.Refused, b.msgs[i].To[j])
				}
			}
		}
	}
	return out
}

// SendMailBatch sends msgs on the session, each with its own envelope and
// result, in order. When the server offers PIPELINING, the end of one
// message's data and the next message's MAIL, RCPTs and DATA go out
// together (one round trip per message); with CHUNKING too, messages go by
// BDAT without waiting for replies, up to 32 in flight. The error is nil
// when every message was sent, else that of the first one that was not;
// once the connection is lost the remaining messages get
// ErrServerDisconnected. Each message is copied to C memory for the call.
// Line endings per SetLineEndings; the envelope options (SetEnvelope)
// apply to each. Recipients afterwards describes the last message. results
// has one entry per message (also when arguments were refused before
// anything was sent: then each message's Err says why, or is nil).
func (c *Client) SendMailBatch(ctx context.Context, msgs []BatchMessage) ([]BatchResult, error) {
	const op = "sendmail_batch"
	b, err := newBatch(op, msgs, c.lineEndings)
	if err != nil {
		return nil, err
	}
	defer b.free()
	var out []BatchResult
	err = c.do(ctx, op, func(s *C.smtp_session) C.int {
		return C.smtp_session_sendmail_batch(s, b.base, C.size_t(len(b.items)))
	}, func(err error) error {
		out = b.results(op, err)
		return err
	})
	return out, err
}
