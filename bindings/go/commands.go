package smtp

// smtplib's commands, one method each. Every one takes a context first:
// cancelling it, or its deadline passing, ends the call (ErrCancelled,
// connection closed), as Client.Cancel does.

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"context"
	"runtime"
	"unsafe"
)

func (c *Client) connect(ctx context.Context, op, addr string, open bool) (Reply, error) {
	host, port, err := splitAddr(op, addr)
	if err != nil {
		return Reply{}, err
	}
	ch, err := cstring(op, "host", host)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ch))
	return c.doReply(ctx, op, func(s *C.smtp_session, code *C.int) C.int {
		if open {
			return C.smtp_session_open(s, ch, C.uint16_t(port), code)
		}
		return C.smtp_session_connect(s, ch, C.uint16_t(port), code)
	})
}

// Connect connects to addr (as for Dial) and returns the greeting
// (smtplib's connect): a greeting other than 220 is not an error here. An
// open connection is closed first.
func (c *Client) Connect(ctx context.Context, addr string) (Reply, error) {
	return c.connect(ctx, "connect", addr, false)
}

// Open is Connect, with a greeting other than 220 an error
// (ErrConnectReply, connection closed), as in smtplib's SMTP(host, port).
func (c *Client) Open(ctx context.Context, addr string) (Reply, error) {
	return c.connect(ctx, "open", addr, true)
}

// Helo is smtplib's helo: HELO with name, or the local hostname when "".
func (c *Client) Helo(ctx context.Context, name string) (Reply, error) {
	cn, err := optCString("helo", "name", name)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(cn))
	return c.doReply(ctx, "helo", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_helo(s, cn, code)
	})
}

// Ehlo is smtplib's ehlo (LHLO on LMTP): with name, or the local hostname
// when "". A refusal is a Reply with its code, not an error.
func (c *Client) Ehlo(ctx context.Context, name string) (Reply, error) {
	cn, err := optCString("ehlo", "name", name)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(cn))
	return c.doReply(ctx, "ehlo", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_ehlo(s, cn, code)
	})
}

// EhloOrHeloIfNeeded is smtplib's ehlo_or_helo_if_needed: EHLO, then HELO
// if refused, when neither was done; both refused is ErrHelo.
func (c *Client) EhloOrHeloIfNeeded(ctx context.Context) error {
	return c.do(ctx, "ehlo_or_helo_if_needed", func(s *C.smtp_session) C.int {
		return C.smtp_session_ehlo_or_helo_if_needed(s)
	}, nil)
}

// Docmd is smtplib's docmd: cmd, or "cmd args" when args is not "", and
// the reply.
func (c *Client) Docmd(ctx context.Context, cmd, args string) (Reply, error) {
	cc, err := cstring("docmd", "command", cmd)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(cc))
	ca, err := optCString("docmd", "arguments", args)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	return c.doReply(ctx, "docmd", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_docmd(s, cc, ca, code)
	})
}

// Noop is smtplib's noop.
func (c *Client) Noop(ctx context.Context) (Reply, error) {
	return c.doReply(ctx, "noop", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_noop(s, code)
	})
}

// Rset is smtplib's rset, ending the mail transaction.
func (c *Client) Rset(ctx context.Context) (Reply, error) {
	return c.doReply(ctx, "rset", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_rset(s, code)
	})
}

// Help is smtplib's help: HELP, with args when not "".
func (c *Client) Help(ctx context.Context, args string) (Reply, error) {
	ca, err := optCString("help", "arguments", args)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	return c.doReply(ctx, "help", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_help(s, ca, code)
	})
}

// Verify is smtplib's verify: VRFY with the address part of address.
func (c *Client) Verify(ctx context.Context, address string) (Reply, error) {
	ca, err := cstring("verify", "address", address)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	return c.doReply(ctx, "verify", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_verify(s, ca, code)
	})
}

// Expn is smtplib's expn: EXPN with the address part of address.
func (c *Client) Expn(ctx context.Context, address string) (Reply, error) {
	ca, err := cstring("expn", "address", address)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	return c.doReply(ctx, "expn", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_expn(s, ca, code)
	})
}

// Mail is smtplib's mail: MAIL FROM:<sender>, with options once EHLO
// succeeded. It starts a new transaction.
func (c *Client) Mail(ctx context.Context, sender string, options ...string) (Reply, error) {
	return c.mailOrRcpt(ctx, "mail", sender, options)
}

// Rcpt is smtplib's rcpt: RCPT TO:<recipient>, with options once EHLO
// succeeded. The reply is also kept in Recipients.
func (c *Client) Rcpt(ctx context.Context, recipient string, options ...string) (Reply, error) {
	return c.mailOrRcpt(ctx, "rcpt", recipient, options)
}

func (c *Client) mailOrRcpt(ctx context.Context, op, addr string, options []string) (Reply, error) {
	ca, err := cstring(op, "address", addr)
	if err != nil {
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ca))
	opts, err := newCStrings(op, "option", options)
	if err != nil {
		return Reply{}, err
	}
	defer opts.free()
	return c.doReply(ctx, op, func(s *C.smtp_session, code *C.int) C.int {
		if op == "mail" {
			return C.smtp_session_mail(s, ca, opts.arr, opts.len(), code)
		}
		return C.smtp_session_rcpt(s, ca, opts.arr, opts.len(), code)
	})
}

// Data is smtplib's data: DATA, then msg (line endings per SetLineEndings,
// dots doubled, the final "."), then the reply. A reply to DATA other than
// 354 is ErrData. On LMTP one reply is read per accepted recipient (see
// Recipients); the Reply is the first failure, or the last reply.
func (c *Client) Data(ctx context.Context, msg []byte) (Reply, error) {
	r, err := c.doReply(ctx, "data", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_data(s, bytesPtr(msg), C.size_t(len(msg)), C.uint(c.lineEndings), code)
	})
	runtime.KeepAlive(msg)
	return r, err
}

// Quit is smtplib's quit: QUIT, then forget the EHLO state and close the
// connection. The Client stays allocated until Close.
func (c *Client) Quit(ctx context.Context) (Reply, error) {
	return c.doReply(ctx, "quit", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_quit(s, code)
	})
}

// Send is smtplib's send: write data to the server exactly as it is (no
// CRLF added, nothing checked: the caller builds whole lines) and read no
// reply; read it with GetReply. The session's state is not changed. A
// line starting with "AUTH " is traced with its payload redacted; other
// bytes are traced as sent. Errors end the connection.
func (c *Client) Send(ctx context.Context, data []byte) error {
	err := c.do(ctx, "send", func(s *C.smtp_session) C.int {
		return C.smtp_session_send(s, unsafe.Pointer(bytesPtr(data)), C.size_t(len(data)))
	}, nil)
	runtime.KeepAlive(data)
	return err
}

// GetReply is smtplib's getreply: read one reply, whatever its code (Code
// -1 when the server sent no number where the code belongs). A reply
// already read ahead is returned at once.
func (c *Client) GetReply(ctx context.Context) (Reply, error) {
	return c.doReply(ctx, "getreply", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_getreply(s, code)
	})
}
