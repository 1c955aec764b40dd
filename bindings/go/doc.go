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
// the session, but their order is then unspecified. From inside a callback
// (a SASL mechanism, a trace function) the Client's own methods return an
// error with Code ErrBadState; calls from other goroutines wait until the
// call the callback belongs to has returned.
//
// # Memory
//
// Every string the library returns is copied into a Go string before the
// next call on the session. A Client owns a C session until Close (call it,
// e.g. with defer c.Close(); a finalizer frees a forgotten one). TLS
// builders and configurations have Close methods and finalizers too.
// Messages are passed to the library without copying.
package smtp
