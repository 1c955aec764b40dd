package smtp

// What a session knows, read without waiting on the network.

/*
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"strings"
	"unsafe"
)

// get runs f under the Client's lock; on a closed Client it returns zero.
func get[T any](c *Client, op string, f func(s *C.smtp_session) T) T {
	if c.begin(op) != nil {
		var zero T
		return zero
	}
	defer c.unlock()
	return f(c.s)
}

// IsConnected reports whether the session has a connection.
func (c *Client) IsConnected() bool {
	return get(c, "is_connected", func(s *C.smtp_session) bool { return C.smtp_session_is_connected(s) != 0 })
}

// LastReply is the reply behind the last result (smtp_session_last_reply_code
// and _text).
func (c *Client) LastReply() Reply {
	return get(c, "last_reply", func(s *C.smtp_session) Reply {
		return Reply{Code: int(C.smtp_session_last_reply_code(s)), Text: C.GoString(C.smtp_session_last_reply_text(s))}
	})
}

// withName runs f with name as a C string; a NUL in name gives zero.
func withName[T any](c *Client, op, name string, f func(s *C.smtp_session, n *C.char) T) T {
	var zero T
	if strings.IndexByte(name, 0) >= 0 {
		return zero
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	return get(c, op, func(s *C.smtp_session) T { return f(s, cn) })
}

// HasExtn is smtplib's has_extn: whether the last EHLO advertised name
// (case-insensitive).
func (c *Client) HasExtn(name string) bool {
	return withName(c, "has_extn", name, func(s *C.smtp_session, n *C.char) bool {
		return C.smtp_session_has_extn(s, n) != 0
	})
}

// Feature is one extension of the last EHLO reply.
type Feature struct {
	// Name is the keyword, lower-case ("size", "auth").
	Name string
	// Params as smtplib keeps them ("" when none).
	Params string
}

// Features is smtplib's esmtp_features, in the server's order (AUTH lines
// merged into one).
func (c *Client) Features() []Feature {
	return get(c, "features", func(s *C.smtp_session) []Feature {
		n := C.smtp_session_feature_count(s)
		out := make([]Feature, 0, int(n))
		for i := C.size_t(0); i < n; i++ {
			out = append(out, Feature{
				Name:   C.GoString(C.smtp_session_feature_name(s, i)),
				Params: C.GoString(C.smtp_session_feature_params(s, i)),
			})
		}
		return out
	})
}

type optString struct {
	s  string
	ok bool
}

func optStr(p *C.char) optString {
	s, ok := optGoString(p)
	return optString{s, ok}
}

// Feature returns the parameters of extension name (case-insensitive) and
// whether it was advertised.
func (c *Client) Feature(name string) (string, bool) {
	r := withName(c, "feature", name, func(s *C.smtp_session, n *C.char) optString {
		return optStr(C.smtp_session_feature(s, n))
	})
	return r.s, r.ok
}

// DoesESMTP is smtplib's does_esmtp: whether an EHLO got 250.
func (c *Client) DoesESMTP() bool {
	return get(c, "does_esmtp", func(s *C.smtp_session) bool { return C.smtp_session_does_esmtp(s) != 0 })
}

// EhloResp is smtplib's ehlo_resp; false when no EHLO was answered since
// connect or QUIT.
func (c *Client) EhloResp() (string, bool) {
	r := get(c, "ehlo_resp", func(s *C.smtp_session) optString { return optStr(C.smtp_session_ehlo_resp(s)) })
	return r.s, r.ok
}

// HeloResp is smtplib's helo_resp.
func (c *Client) HeloResp() (string, bool) {
	r := get(c, "helo_resp", func(s *C.smtp_session) optString { return optStr(C.smtp_session_helo_resp(s)) })
	return r.s, r.ok
}

// UTF8Commands is smtplib's command_encoding == "utf-8": true from a MAIL
// with the SMTPUTF8 option until RSET (commands may then be UTF-8); false
// otherwise (a command that is not ASCII is ErrInvalidArgument).
func (c *Client) UTF8Commands() bool {
	return get(c, "utf8_commands", func(s *C.smtp_session) bool { return C.smtp_session_utf8_commands(s) != 0 })
}

// Fileno is the descriptor of the connection's socket (smtplib's
// sock.fileno()), -1 when not connected. It stays the session's: poll it,
// read its addresses or set socket options, but do not read, write or
// close it, nor change its blocking mode.
func (c *Client) Fileno() int {
	if c.begin("fileno") != nil {
		return -1
	}
	defer c.unlock()
	return int(C.smtp_session_fileno(c.s))
}

// Sender is the reverse-path of the last transaction: the sender given to
// SendMail or Mail, or the one SendMessage found in the headers; "" before
// any.
func (c *Client) Sender() string {
	return get(c, "sender", func(s *C.smtp_session) string {
		v, _ := optGoString(C.smtp_session_sender(s))
		return v
	})
}

// Recipient is one recipient's result in the last transaction.
type Recipient struct {
	// Addr is the address as given (or as found in the message).
	Addr string
	// Reply is the RCPT reply.
	Reply Reply
	// Status is the RFC 3463 code of the RCPT reply ("2.1.5") when the
	// server offers ENHANCEDSTATUSCODES, else "".
	Status string
	// DataReply is, on LMTP, the recipient's reply after the data (Code 0
	// when none was read), and DataStatus its RFC 3463 code.
	DataReply  Reply
	DataStatus string
	// Final is the reply that decided the recipient's fate: DataReply when
	// there is one for a recipient accepted at RCPT, else Reply (what
	// smtplib's sendmail reports for a refused recipient); FinalStatus its
	// RFC 3463 code.
	Final       Reply
	FinalStatus string
	// Refused: RCPT not 250 or 251, or on LMTP the reply after the data
	// not 250.
	Refused bool
}

// Recipients gives the per-recipient results of the last transaction (since
// the last MAIL), in order.
func (c *Client) Recipients() []Recipient {
	return get(c, "recipients", recipients)
}

// recipients reads every recipient's record (smtp_session_rcpt_info, one
// call each).
func recipients(s *C.smtp_session) []Recipient {
	n := C.smtp_session_rcpt_count(s)
	out := make([]Recipient, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		var info C.smtp_rcpt_info
		if C.smtp_session_rcpt_info(s, i, &info) != 0 {
			break
		}
		str := func(p *C.char) string { v, _ := optGoString(p); return v }
		out = append(out, Recipient{
			Addr:        str(info.addr),
			Reply:       Reply{Code: int(info.code), Text: str(info.text)},
			Status:      str(info.status),
			DataReply:   Reply{Code: int(info.data_code), Text: str(info.data_text)},
			DataStatus:  str(info.data_status),
			Final:       Reply{Code: int(info.final_code), Text: str(info.final_text)},
			FinalStatus: str(info.final_status),
			Refused:     info.refused != 0,
		})
	}
	return out
}

// refusedMap builds smtplib's refused dict: each refused recipient with
// the reply that decided it.
func refusedMap(s *C.smtp_session) map[string]Reply {
	m := map[string]Reply{}
	for _, r := range recipients(s) {
		if r.Refused {
			m[r.Addr] = r.Final
		}
	}
	return m
}
