// Package smtp is the Go binding of libsmtp, an SMTP and LMTP client
// library with the semantics of Python's smtplib, written in Rust and
// shipped as a C library (libsmtp.so or libsmtp.a, found through
// pkg-config module "smtp"). Import it as
//
//	import smtp "github.com/libsmtp/libsmtp/bindings/go"
//
// and build with -tags libsmtp_static for a binary that needs no
// libsmtp.so at run time (see link_static.go and the README).
//
// A Client is one session: smtplib's SMTP, SMTP_SSL or LMTP object. Its
// methods carry smtplib's names in Go form (Ehlo, Helo, EhloOrHeloIfNeeded,
// HasExtn, Docmd, Noop, Rset, Help, Verify, Expn, Mail, Rcpt, Data,
// SendMail, SendMessage, Login, Auth, StartTLS, Quit), plus SendMailStream
// (from an io.Reader), SendMailBatch, the connection Pool, a MIME message
// builder (Message, sent with SendComposed) and DKIM signing (DKIM). Where smtplib
// returns (code, message) a method returns a Reply; where smtplib raises,
// it returns an error, always an *Error whose Code mirrors the library's
// SMTP_ERR_* result code (one per smtplib exception):
//
//	refused, err := c.SendMail(ctx, from, to, msg)
//	var e *smtp.Error
//	if errors.As(err, &e) && e.Code == smtp.ErrRecipientsRefused {
//		fmt.Println(e.Refused) // every recipient, with its reply
//	}
//	if errors.Is(err, smtp.ErrRecipientsRefused) { ... }
//
// # Contexts and cancellation
//
// Every method that talks to the server takes a context.Context first.
// When the context is cancelled or its deadline passes, the call ends
// within 100 ms (through smtp_session_cancel) with an *Error whose Code is
// ErrCancelled and whose Err is the context's error, so errors.Is(err,
// context.DeadlineExceeded) or errors.Is(err, context.Canceled) holds; the
// connection is then closed. Cancel does the same from any goroutine
// without a context. A call blocks only its own goroutine: the others,
// timers included, keep running.
//
// No call waits longer than the Client's timeouts allow either.
// WithTimeout(d) (smtplib's timeout) sets TimeoutAll: every single wait
// (name lookup and connect, each read and write, the greeting, TLS
// handshake and every reply, however slowly the server trickles it) is
// bounded by d, and the first limit to run out ends the call with
// ErrTimeout and closes the connection. WithTimeoutFor and SetTimeout set
// one limit (TimeoutKind gives the rule); TimeoutCall bounds the whole of
// one call and is not part of TimeoutAll.
//
// # Threads
//
// A Client runs one call at a time: a call made while another runs on the
// same Client waits for it (calls queue), until its own context ends.
// Cancel is the exception. For parallel sending use one Client per
// goroutine, or a Pool, which is safe for any number of goroutines and
// runs each call on a session of its own. From inside a callback (a SASL
// mechanism, a trace function, a stream's or a Message's reader) the
// Client's own methods but Cancel return an error with Code ErrBadState.
//
// # Memory
//
// Every string the library returns is copied into a Go string before the
// next call on the session. A Client owns a C session until Close (call it,
// e.g. with defer c.Close(); a finalizer frees a forgotten one). Pools, TLS
// builders and configurations, Messages and DKIM signers have Close
// methods and finalizers too.
// Messages are passed to the library without copying (SendMailBatch's
// excepted).
package smtp
