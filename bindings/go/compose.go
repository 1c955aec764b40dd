package smtp

// Sending a Message: Client.SendComposed and Pool.SendComposed
// (smtp_session_send_composed, smtp_pool_send_composed).

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import "context"

// composedArgs converts a composed send's options: MailOptions and
// RcptOptions; the envelope comes from the message's headers, so
// EnvelopeFrom and EnvelopeTo are ErrInvalidArgument.
func composedArgs(op string, opts []SendOption) (*sendArgs, error) {
	var o sendOptions
	for _, f := range opts {
		f(&o)
	}
	if o.from != nil || o.toSet {
		return nil, &Error{Code: ErrInvalidArgument, Op: op,
			Message: "EnvelopeFrom and EnvelopeTo do not apply: the envelope of a composed message is its From/Sender, To, Cc and Bcc"}
	}
	return newSendArgs(op, nil, nil, opts)
}

// SendComposed sends a built message as SendMessage sends a raw one:
// EHLO or HELO if needed; the envelope sender is its Sender, else its
// first From; the recipients every To, Cc and Bcc (no Bcc field is
// sent); SMTPUTF8 and BODY=8BITMIME when an address needs them (the
// server's SMTPUTF8 missing is ErrNotSupported, nothing sent); SIZE= the
// exact size when every part's is known. opts may be MailOptions and
// RcptOptions. The message streams as the connection takes it:
// attachments are read a chunk at a time on this goroutine, never held
// whole. A part that fails mid-message (a file that cannot be read, a
// reader's error) is ErrIO with the connection closed, so that nothing
// partial is delivered (see AttachReader for the cause). The context ends
// the call as for SendMail, and is checked between a reader's reads; the
// call first waits for the message if another goroutine is writing or
// sending it. Results as SendMail.
func (c *Client) SendComposed(ctx context.Context, m *Message, opts ...SendOption) (map[string]Reply, error) {
	const op = "send_composed"
	return sendComposed(ctx, op, m, c.guard, opts, func(cm *C.smtp_message, a *sendArgs) (map[string]Reply, error) {
		return c.send(ctx, op, func(s *C.smtp_session) C.int {
			return C.smtp_session_send_composed(s, cm, a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), nil)
		})
	})
}

// SendComposed is Client.SendComposed through the pool (see
// Pool.SendMail). Sent again on a new connection, the message is written
// again: files are re-read, and readers must be io.Seekers (see
// Message.AttachReader), else that second attempt fails.
func (p *Pool) SendComposed(ctx context.Context, m *Message, opts ...SendOption) (map[string]Reply, error) {
	const op = "pool_send_composed"
	return sendComposed(ctx, op, m, nil, opts, func(cm *C.smtp_message, a *sendArgs) (map[string]Reply, error) {
		return p.send(ctx, op, func(pool *C.smtp_pool, s *C.smtp_session, _ C.uint) C.int {
			return C.smtp_pool_send_composed(pool, s, cm, a.mo.arr, a.mo.len(), a.ro.arr, a.ro.len(), nil)
		})
	})
}

// sendComposed runs a send of m (client: the sending Client's guard, nil
// for a pool): the options converted, then send under the message's lock.
func sendComposed(ctx context.Context, op string, m *Message, client *callbackGuard, opts []SendOption,
	send func(cm *C.smtp_message, a *sendArgs) (map[string]Reply, error)) (map[string]Reply, error) {
	if m == nil {
		return nil, &Error{Code: ErrNullArgument, Op: op, Message: "nil *Message"}
	}
	a, err := composedArgs(op, opts)
	if err != nil {
		return nil, err
	}
	defer a.free()
	var refused map[string]Reply
	err = m.writing(ctx, op, client, func(cm *C.smtp_message) (err error) {
		refused, err = send(cm, a)
		return err
	})
	return refused, err
}
