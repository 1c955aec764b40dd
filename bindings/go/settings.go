package smtp

// A Client's settings: the Options of New, Dial and NewPool, and the
// setters they call.

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>

// The Go trace callback (callbacks.go), as cgo exports it.
extern void libsmtpGoTrace(void *, int, char *, size_t);

// The userdata is a runtime/cgo.Handle, an integer: converting it to a
// pointer here keeps go vet's unsafe.Pointer check quiet.
static int libsmtp_go_set_trace(smtp_session *s, uintptr_t h)
{
	return smtp_session_set_trace(s, h ? (smtp_trace_fn)libsmtpGoTrace : NULL, (void *)h);
}
*/
import "C"

import (
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Option configures a Client made by New or Dial, and each session of a
// Pool (NewPool).
type Option func(*config)

type config struct {
	kind    Kind
	actions []func(*Client) error
}

func action(f func(*Client) error) Option {
	return func(cfg *config) { cfg.actions = append(cfg.actions, f) }
}

// WithKind makes Dial or NewPool (or New, overriding its argument) use
// sessions of kind k.
func WithKind(k Kind) Option {
	return func(cfg *config) { cfg.kind = k }
}

// WithLocalHostname sets the name sent with EHLO, HELO and LHLO when none
// is given (smtplib's local_hostname).
func WithLocalHostname(name string) Option {
	return action(func(c *Client) error { return c.SetLocalHostname(name) })
}

// WithTimeout bounds every single wait (smtplib's timeout): the name
// lookup and connect, each read and write, the greeting and TLS handshake,
// and each reply however slowly the server trickles it. It sets TimeoutAll,
// so every limit but TimeoutCall; 0 means no limit. A bound on the whole
// of a call is WithTimeoutFor(TimeoutCall, d) or a context deadline;
// options apply in order, so a WithTimeoutFor after WithTimeout overrides
// one limit.
func WithTimeout(d time.Duration) Option {
	return action(func(c *Client) error { return c.SetTimeout(TimeoutAll, d) })
}

// WithTimeoutFor sets one timeout (see TimeoutKind); 0 means no limit.
func WithTimeoutFor(which TimeoutKind, d time.Duration) Option {
	return action(func(c *Client) error { return c.SetTimeout(which, d) })
}

// WithSourceAddress binds connections to a local address (smtplib's
// source_address); port 0 lets the system choose.
func WithSourceAddress(host string, port uint16) Option {
	return action(func(c *Client) error { return c.SetSourceAddress(host, port) })
}

// WithTLSConfig sets the TLS configuration for SMTPSSL sessions and for
// StartTLS(ctx, nil). The session keeps its own reference: cfg may be
// closed afterwards.
func WithTLSConfig(cfg *TLSConfig) Option {
	return action(func(c *Client) error { return c.SetTLSConfig(cfg) })
}

// WithRequireTLS makes SendMail, SendMessage, Login and the Auth calls
// refuse (ErrNotEncrypted, nothing sent) unless the connection is TLS.
func WithRequireTLS() Option {
	return action(func(c *Client) error { return c.SetRequireTLS(true) })
}

// WithDebugLevel sets smtplib's debug level (see SetDebugLevel).
func WithDebugLevel(level int) Option {
	return action(func(c *Client) error { return c.SetDebugLevel(level) })
}

// WithTrace sends the debug trace to fn (see SetTrace). In a Pool's
// options fn serves every session, from several goroutines at once.
func WithTrace(fn func(dir TraceDirection, line string)) Option {
	return action(func(c *Client) error { return c.SetTrace(fn) })
}

// WithLineEndings sets the line-ending policy (see SetLineEndings).
func WithLineEndings(mode LineEndings) Option {
	return action(func(c *Client) error { return c.SetLineEndings(mode) })
}

// WithTrustLoopback sets whether a loopback peer counts as protecting
// secrets (default true; see SetTrustLoopback).
func WithTrustLoopback(trust bool) Option {
	return action(func(c *Client) error { return c.SetTrustLoopback(trust) })
}

// WithPipelining switches PIPELINING (RFC 2920) on or off (see SetPipelining).
func WithPipelining(on bool) Option {
	return action(func(c *Client) error { return c.SetPipelining(on) })
}

// WithChunking switches CHUNKING (RFC 3030) on or off (see SetChunking).
func WithChunking(on bool) Option {
	return action(func(c *Client) error { return c.SetChunking(on) })
}

// WithProxy connects through a SOCKS5 or HTTP CONNECT proxy (see SetProxy).
func WithProxy(url string) Option {
	return action(func(c *Client) error { return c.SetProxy(url) })
}

// WithEnvelope sets the structured MAIL and RCPT options (see SetEnvelope).
func WithEnvelope(e *Envelope) Option {
	return action(func(c *Client) error { return c.SetEnvelope(e) })
}

// WithAuthMechanisms chooses the mechanisms Login tries (see
// SetAuthMechanisms).
func WithAuthMechanisms(names ...string) Option {
	return action(func(c *Client) error { return c.SetAuthMechanisms(names...) })
}

// set runs one setter of the library under the Client's lock.
func (c *Client) set(op string, f func(s *C.smtp_session) C.int) error {
	if err := c.begin(op); err != nil {
		return err
	}
	defer c.unlock()
	return c.check(op, f(c.s))
}

// setString is set with a string argument ("" as NULL when optional).
func (c *Client) setString(op, what, v string, optional bool, f func(s *C.smtp_session, p *C.char) C.int) error {
	var p *C.char
	var err error
	if optional {
		p, err = optCString(op, what, v)
	} else {
		p, err = cstring(op, what, v)
	}
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	return c.set(op, func(s *C.smtp_session) C.int { return f(s, p) })
}

// SetLocalHostname sets the name sent with EHLO, HELO and LHLO when none
// is given (smtplib's local_hostname).
func (c *Client) SetLocalHostname(name string) error {
	return c.setString("set_local_hostname", "name", name, false, func(s *C.smtp_session, p *C.char) C.int {
		return C.smtp_session_set_local_hostname(s, p)
	})
}

// SetTimeout sets one timeout (see TimeoutKind; TimeoutAll sets every
// limit but TimeoutCall), rounded up to a millisecond; 0 (or less) means no
// limit. It applies from the next call, on the current connection too.
func (c *Client) SetTimeout(which TimeoutKind, d time.Duration) error {
	return c.set("set_timeout_ms", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_timeout_ms(s, C.int(which), durationMS(d))
	})
}

// Timeout returns one timeout (0: no limit), or -1 for an unknown kind.
// For TimeoutAll: the longest of the limits it sets (0 when one of them is
// unlimited).
func (c *Client) Timeout(which TimeoutKind) time.Duration {
	if c.begin("timeout_ms") != nil {
		return -1
	}
	defer c.unlock()
	ms := C.smtp_session_timeout_ms(c.s, C.int(which))
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// SetSourceAddress binds the next connections to host and port (smtplib's
// source_address); "" removes the setting.
func (c *Client) SetSourceAddress(host string, port uint16) error {
	return c.setString("set_source_address", "host", host, true, func(s *C.smtp_session, p *C.char) C.int {
		return C.smtp_session_set_source_address(s, p, C.uint16_t(port))
	})
}

// SetDebugLevel is smtplib's set_debuglevel: 0 quiet, 1 traces every
// command and reply, 2 adds timestamps. Lines go to stderr, or to the
// function given to SetTrace. AUTH payloads are never shown.
func (c *Client) SetDebugLevel(level int) error {
	return c.set("set_debuglevel", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_debuglevel(s, C.int(level))
	})
}

// SetDebugSecrets shows AUTH payloads in the trace. For test servers only.
func (c *Client) SetDebugSecrets(show bool) error {
	return c.set("set_debug_secrets", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_debug_secrets(s, cbool(show))
	})
}

// SetTrace sends the debug trace to fn instead of stderr (nil restores
// stderr). fn is called only while the debug level is above 0, on the
// goroutine inside a call on this Client; it must not call the Client (that
// is ErrBadState). A panic in fn is recovered and the line dropped.
func (c *Client) SetTrace(fn func(dir TraceDirection, line string)) error {
	if err := c.begin("set_trace"); err != nil {
		return err
	}
	defer c.unlock()
	var st *traceState
	if fn != nil {
		st = &traceState{fn: fn, guard: c.guard}
		st.handle = newHandle(st)
	}
	var h C.uintptr_t
	if st != nil {
		h = C.uintptr_t(st.handle)
	}
	if err := c.check("set_trace", C.libsmtp_go_set_trace(c.s, h)); err != nil {
		if st != nil {
			deleteHandle(st.handle)
		}
		return err
	}
	if c.trace != nil {
		deleteHandle(c.trace.handle)
	}
	c.trace = st
	return nil
}

// SetLineEndings sets the policy for Data, SendMail, SendMessage,
// SendMailStream and SendMailBatch.
func (c *Client) SetLineEndings(mode LineEndings) error {
	switch mode {
	case Normalize, Raw, RejectBareEOL:
	default:
		return &Error{Code: ErrInvalidArgument, Op: "set_line_endings", Message: "unknown line-ending policy " + strconv.Itoa(int(mode))}
	}
	if err := c.begin("set_line_endings"); err != nil {
		return err
	}
	defer c.unlock()
	c.lineEndings = mode
	return nil
}

// SetTrustLoopback sets whether a loopback peer counts as protecting
// secrets for the cleartext rule of Login and Auth (default true). Set
// false when a loopback port may forward elsewhere.
func (c *Client) SetTrustLoopback(trust bool) error {
	return c.set("set_trust_loopback", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_trust_loopback(s, cbool(trust))
	})
}

// SetRequireTLS: see WithRequireTLS.
func (c *Client) SetRequireTLS(on bool) error {
	return c.set("set_require_tls", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_require_tls(s, cbool(on))
	})
}

// SetPipelining: with on false, SendMail and SendMessage wait for each
// reply even when the server offers PIPELINING (RFC 2920); true (the
// default) sends MAIL, every RCPT and DATA in one write. The results are
// the same either way.
func (c *Client) SetPipelining(on bool) error {
	return c.set("set_pipelining", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_pipelining(s, cbool(on))
	})
}

// SetChunking: with on false, messages go by DATA even when the server
// offers CHUNKING (RFC 3030); true (the default) sends them as BDAT chunks
// then, with no dot-stuffing, and as BODY=BINARYMIME when the body is not
// text and the server offers BINARYMIME. The bytes delivered are the same.
func (c *Client) SetChunking(on bool) error {
	return c.set("set_chunking", func(s *C.smtp_session) C.int {
		return C.smtp_session_set_chunking(s, cbool(on))
	})
}

// SetProxy connects through a proxy from the next Connect or Open on; ""
// connects directly again. url is socks5://[user:password@]host[:port]
// (the mail host's name resolved here), socks5h://... (resolved by the
// proxy) or http://[user:password@]host[:port] (HTTP CONNECT, Basic
// credentials); ports default to 1080 and 8080; user and password are
// percent-decoded. TLS runs end to end through the proxy. The handshake is
// part of connecting (TimeoutConnect, TimeoutCall, the context and Cancel
// bound it); a refusing proxy is ErrConnect. The credentials never appear
// in the trace or an error. An invalid URL is ErrInvalidArgument.
func (c *Client) SetProxy(url string) error {
	return c.setString("set_proxy", "url", url, true, func(s *C.smtp_session, p *C.char) C.int {
		return C.smtp_session_set_proxy(s, p)
	})
}

// SetAuthMechanisms chooses the mechanisms Login tries, in order, from the
// built-in ones (CRAM-MD5, PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2,
// OAUTHBEARER); none restores "CRAM-MD5 PLAIN LOGIN".
func (c *Client) SetAuthMechanisms(names ...string) error {
	return c.setString("set_auth_mechanisms", "mechanisms", strings.Join(names, " "), true,
		func(s *C.smtp_session, p *C.char) C.int {
			return C.smtp_session_set_auth_mechanisms(s, p)
		})
}
