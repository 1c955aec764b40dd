package smtp

/*
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"sort"
	"unsafe"
)

// DSNRet is the DSN RET parameter (RFC 3461 4.3).
type DSNRet int

const (
	DSNRetFull    DSNRet = 1 // the whole message
	DSNRetHeaders DSNRet = 2 // only the headers
)

// DSNNotify is a set of DSN NOTIFY conditions (RFC 3461 4.1).
type DSNNotify uint

const (
	NotifySuccess DSNNotify = 1
	NotifyFailure DSNNotify = 2
	NotifyDelay   DSNNotify = 4
	NotifyNever   DSNNotify = 8 // alone
)

// Body is the BODY= parameter of MAIL.
type Body int

const (
	Body7Bit       Body = 1
	Body8BitMIME   Body = 2
	BodyBinaryMIME Body = 3
)

// RcptDSN is one recipient's DSN settings.
type RcptDSN struct {
	Notify DSNNotify // 0: the envelope's
	ORCPT  string    // the original recipient, "" for none
}

// DeliverBy is the DELIVERBY parameter (RFC 2852).
type DeliverBy struct {
	Seconds int64
	Notify  bool // send a delay notice instead of returning the message
	Trace   bool
}

// Envelope holds the structured MAIL and RCPT options of SendMail and
// SendMessage (SetEnvelope). Each option the server does not advertise
// makes them fail with ErrNotSupported before MAIL is sent. Zero values are
// unset.
type Envelope struct {
	DSNRet     DSNRet
	DSNEnvID   string
	DSNNotify  DSNNotify
	Recipients map[string]RcptDSN
	SMTPUTF8   bool
	Body       Body
	RequireTLS bool
	MTPriority *int // -9 to 9
	DeliverBy  *DeliverBy
}

// SetEnvelope uses e's options for every following SendMail and
// SendMessage; nil removes them. An invalid option is ErrInvalidArgument.
func (c *Client) SetEnvelope(e *Envelope) error {
	const op = "set_envelope"
	if e == nil {
		if err := c.begin(op); err != nil {
			return err
		}
		defer c.unlock()
		return c.check(op, C.smtp_session_set_envelope(c.s, nil))
	}
	env := C.smtp_envelope_new()
	defer C.smtp_envelope_free(env)
	fail := func(what string, rc C.int) error {
		return &Error{Code: Code(rc), Op: op, Message: what + ": " + C.GoString(C.smtp_envelope_errmsg(env))}
	}
	if e.DSNRet != 0 {
		if rc := C.smtp_envelope_set_dsn_ret(env, C.int(e.DSNRet)); rc != 0 {
			return fail("DSN RET", rc)
		}
	}
	if e.DSNEnvID != "" {
		p, err := cstring(op, "ENVID", e.DSNEnvID)
		if err != nil {
			return err
		}
		rc := C.smtp_envelope_set_dsn_envid(env, p)
		C.free(unsafe.Pointer(p))
		if rc != 0 {
			return fail("DSN ENVID", rc)
		}
	}
	if e.DSNNotify != 0 {
		if rc := C.smtp_envelope_set_dsn_notify(env, C.uint(e.DSNNotify)); rc != 0 {
			return fail("DSN NOTIFY", rc)
		}
	}
	addrs := make([]string, 0, len(e.Recipients))
	for a := range e.Recipients {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		d := e.Recipients[a]
		pa, err := cstring(op, "recipient", a)
		if err != nil {
			return err
		}
		po, err := optCString(op, "ORCPT", d.ORCPT)
		if err != nil {
			C.free(unsafe.Pointer(pa))
			return err
		}
		rc := C.smtp_envelope_set_rcpt_dsn(env, pa, C.uint(d.Notify), po)
		C.free(unsafe.Pointer(pa))
		C.free(unsafe.Pointer(po))
		if rc != 0 {
			return fail("DSN for "+a, rc)
		}
	}
	if e.SMTPUTF8 {
		if rc := C.smtp_envelope_set_smtputf8(env, 1); rc != 0 {
			return fail("SMTPUTF8", rc)
		}
	}
	if e.Body != 0 {
		if rc := C.smtp_envelope_set_body(env, C.int(e.Body)); rc != 0 {
			return fail("BODY", rc)
		}
	}
	if e.RequireTLS {
		if rc := C.smtp_envelope_set_requiretls(env, 1); rc != 0 {
			return fail("REQUIRETLS", rc)
		}
	}
	if e.MTPriority != nil {
		if rc := C.smtp_envelope_set_mt_priority(env, C.int(*e.MTPriority)); rc != 0 {
			return fail("MT-PRIORITY", rc)
		}
	}
	if e.DeliverBy != nil {
		d := e.DeliverBy
		if rc := C.smtp_envelope_set_deliver_by(env, C.int64_t(d.Seconds), cbool(d.Notify), cbool(d.Trace)); rc != 0 {
			return fail("DELIVERBY", rc)
		}
	}
	if err := c.begin(op); err != nil {
		return err
	}
	defer c.unlock()
	return c.check(op, C.smtp_session_set_envelope(c.s, env))
}
