package smtp

// smtplib's sendmail and send_message, shared by Client and Pool: the
// arguments are converted once (sendArgs), then run on a session.

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"context"
	"unsafe"
)

// SendOption modifies SendMail, SendMessage and SendMailStream (and the
// Pool's forms).
type SendOption func(*sendOptions)

type sendOptions struct {
	mail, rcpt []string
	from       *string
	to         []string
	toSet      bool
}

// MailOptions are sent with MAIL FROM (once EHLO succeeded), as smtplib's
// mail_options ("SMTPUTF8", "BODY=8BITMIME").
func MailOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.mail = append(o.mail, opts...) }
}

// RcptOptions are sent with each RCPT TO (smtplib's rcpt_options).
func RcptOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.rcpt = append(o.rcpt, opts...) }
}

// EnvelopeFrom replaces the sender SendMessage finds in the headers
// (smtplib's from_addr).
func EnvelopeFrom(addr string) SendOption {
	return func(o *sendOptions) { o.from = &addr }
}

// EnvelopeTo replaces the recipients SendMessage finds in the headers
// (smtplib's to_addrs).
func EnvelopeTo(addrs ...string) SendOption {
	return func(o *sendOptions) { o.to = append(o.to, addrs...); o.toSet = true }
}

// sendArgs are a send's arguments in C memory. from is NULL and to empty
// for SendMessage without EnvelopeFrom / EnvelopeTo.
type sendArgs struct {
	from       *C.char
	to, mo, ro *cstrings
}

func (a *sendArgs) free() {
	C.free(unsafe.Pointer(a.from))
	a.to.free()
	a.mo.free()
	a.ro.free()
}

// newSendArgs converts from (nil: none) and to with the options; for
// send_message the options' EnvelopeFrom and EnvelopeTo apply.
func newSendArgs(op string, from *string, to []string, opts []SendOption) (*sendArgs, error) {
	var o sendOptions
	for _, f := range opts {
		f(&o)
	}
	if from == nil {
		from, to = o.from, o.to
		if o.toSet && len(o.to) == 0 {
			return nil, &Error{Code: ErrInvalidArgument, Op: op, Message: "empty recipient list"}
		}
	}
	a := &sendArgs{}
	var err error
	if from != nil {
		if a.from, err = cstring(op, "sender", *from); err != nil {
			return nil, err
		}
	}
	if a.to, err = newCStrings(op, "recipient", to); err == nil {
		if a.mo, err = newCStrings(op, "MAIL option", o.mail); err == nil {
			a.ro, err = newCStrings(op, "RCPT option", o.rcpt)
		}
	}
	if err != nil {
		a.free()
		return nil, err
	}
	return a, nil
}

// sendResult is the return of every send: the refused map on success, and
// on ErrRecipientsRefused (or ErrData on LMTP, where recipients are
// refused after the data) both returned and in Error.Refused.
func sendResult(s *C.smtp_session, kind Kind, err error) (map[string]Reply, error) {
	if err == nil {
		return refusedMap(s), nil
	}
	if e, ok := err.(*Error); ok && (e.Code == ErrRecipientsRefused || (e.Code == ErrData && kind == LMTP)) {
		e.Refused = refusedMap(s)
		return e.Refused, err
	}
	return nil, err
}

// send runs a send on the Client: f makes the C call with the session.
func (c *Client) send(ctx context.Context, op string, f func(s *C.smtp_session) C.int) (map[string]Reply, error) {
	var refused map[string]Reply
	err := c.do(ctx, op, f, func(err error) error {
		refused, err = sendResult(c.s, c.kind, err)
		return err
	})
	return refused, err
}

// SendMail is smtplib's sendmail: EHLO or HELO if needed, MAIL FROM (with
// SIZE= when offered, and the envelope's options), RCPT TO for each
// recipient, DATA and msg (or BDAT chunks when the server offers CHUNKING;
// with PIPELINING the commands go out together: see SetChunking and
// SetPipelining). It returns the refused recipients with the replies that
// refused them (empty when all were accepted). Every recipient refused is
// ErrRecipientsRefused, with the map in Error.Refused (and returned).
// Other errors: ErrHelo, ErrSenderRefused (Error.Sender), ErrData,
// ErrNotSupported, ErrTooLarge, ErrNotEncrypted, and the argument and
// transport errors. On LMTP a recipient refused after the data counts as
// refused. A message counts as sent only once the server's reply after the
// data said so.
func (c *Client) SendMail(ctx context.Context, from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	a, err := newSendArgs("sendmail", &from, to, opts)
	if err != nil {
		return nil, err
	}
	defer a.free()
	return c.send(ctx, "sendmail", func(s *C.smtp_session) C.int {
		return a.sendmail(s, msg, C.uint(c.lineEndings))
	})
}

func (a *sendArgs) sendmail(s *C.smtp_session, msg []byte, flags C.uint) C.int {
	return C.smtp_session_sendmail(s, a.from, a.to.arr, a.to.len(), bytesPtr(msg), C.size_t(len(msg)),
		a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), flags, nil, nil)
}

// SendMessage is smtplib's send_message on a raw RFC 5322 message: the
// sender from Sender or From, the recipients from every To, Bcc and Cc
// field (the Resent- ones after a Resent-Date), unless EnvelopeFrom or
// EnvelopeTo replace them (Sender tells the sender used). Bcc fields are
// not sent; every other byte is. Results as SendMail.
func (c *Client) SendMessage(ctx context.Context, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	a, err := newSendArgs("send_message", nil, nil, opts)
	if err != nil {
		return nil, err
	}
	defer a.free()
	return c.send(ctx, "send_message", func(s *C.smtp_session) C.int {
		return a.sendMessage(s, msg, C.uint(c.lineEndings))
	})
}

func (a *sendArgs) sendMessage(s *C.smtp_session, msg []byte, flags C.uint) C.int {
	return C.smtp_session_send_message(s, bytesPtr(msg), C.size_t(len(msg)), a.from, a.to.arr, a.to.len(),
		a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), flags, nil)
}
