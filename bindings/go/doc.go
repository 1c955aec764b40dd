// Package smtp is the Go binding of libsmtp, an SMTP and LMTP client
// library with the semantics of Python's smtplib, written in Rust and
// shipped as a C library (libsmtp.so, found through pkg-config module
// "smtp").
//
// A Client is one session: smtplib's SMTP, SMTP_SSL or LMTP object. Its
// methods carry smtplib's names in Go form (Ehlo, Helo, EhloOrHeloIfNeeded,
// HasExtn, Docmd, Noop, Rset, Help, Verify, Expn, Mail, Rcpt, Data,
// SendMail, SendMessage, Login, Auth, StartTLS, Quit). Where smtplib returns
// (code, message) a method returns a Reply; where smtplib raises, it
// returns an error, always an *Error whose Code mirrors the library's
// SMTP_ERR_* result code (one per smtplib exception):
//
//	refused, err := c.SendMail(from, to, msg)
//	var e *smtp.Error
//	if errors.As(err, &e) && e.Code == smtp.ErrRecipientsRefused {
//		fmt.Println(e.Refused) // every recipient, with its reply
//	}
//	if errors.Is(err, smtp.ErrRecipientsRefused) { ... }
//
// # Threads
//
// Different Clients may be used from different goroutines at once. One
// Client must not be used from two goroutines at the same time; it guards
// itself with a mutex, so such calls are serialised rather than corrupting
// the session, but their order is then unspecified. Cancel is the
// exception (see below). From inside a callback (a SASL mechanism, a trace
// function) the Client's own methods but Cancel return an error with Code
// ErrBadState; calls from other goroutines wait until the call the
// callback belongs to has returned.
//
// # Timeouts and cancellation
//
// No call waits longer than the Client's timeouts allow. WithTimeout(d)
// (smtplib's timeout) sets TimeoutAll: every single wait (name lookup and
// connect, each read and write, the greeting, TLS handshake and every
// reply, however slowly the server trickles it) is bounded by d, and the
// first limit to run out ends the call with ErrTimeout and closes the
// connection. WithTimeoutFor and SetTimeout set one limit (TimeoutKind
// gives the rule); TimeoutCall bounds the whole of one call and is not part
// of TimeoutAll.
//
// Cancel is the one method that may be called from any goroutine while
// another goroutine is inside a call on the same Client (Connect, Open,
// SendMail, ...): it does not wait for that call's lock, and the call
// returns an *Error with Code ErrCancelled within 100 ms, the connection
// closed. errors.Is(err, context.Canceled) is true for such an error too.
// Cancel does nothing when no call runs (it does not cancel the next one)
// and nothing after Close. A Dial has no Client to cancel yet: use New
// and Connect or Open for a connect that may need cancelling.
//
// # Memory
//
// Every string the library returns is copied into a Go string before the
// next call on the session. A Client owns a C session until Close (call it,
// e.g. with defer c.Close(); a finalizer frees a forgotten one). TLS
// builders and configurations have Close methods and finalizers too.
// Messages are passed to the library without copying.
package smtp
