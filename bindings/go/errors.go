package smtp

// #include <smtp.h>
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Code is a libsmtp result code (enum smtp_result): one per smtplib
// exception, numbers fixed by the C ABI. A Code is itself an error, so that
// errors.Is(err, smtp.ErrRecipientsRefused) works on any error this package
// returns.
type Code int

// The result codes, SMTP_ERR_* in smtp.h.
const (
	// ErrNullArgument: a required argument was missing. Nothing was sent.
	ErrNullArgument Code = 1
	// ErrInvalidArgument: an argument was refused (CR, LF or NUL bound for a
	// command line, invalid UTF-8, an unknown constant) before anything was
	// sent (smtplib: ValueError).
	ErrInvalidArgument Code = 2
	// ErrBadState: the call does not fit the session's state: a call from
	// inside one of its callbacks, a poisoned session, a closed Client.
	ErrBadState Code = 3
	// ErrPanic: the library panicked; the session is poisoned.
	ErrPanic Code = 4
	// ErrConnect: the connection could not be made (smtplib: OSError).
	ErrConnect Code = 10
	// ErrTimeout: a connect, I/O or reply timeout fired; the connection is closed.
	ErrTimeout Code = 11
	// ErrIO: another I/O error; the connection is closed.
	ErrIO Code = 12
	// ErrTLS: TLS failed (the message names the check).
	ErrTLS Code = 13
	// ErrServerDisconnected: not connected, or the server closed the
	// connection (SMTPServerDisconnected).
	ErrServerDisconnected Code = 14
	// ErrNotEncrypted: the call would send a secret in clear, or needs TLS
	// (WithRequireTLS). Nothing was sent.
	ErrNotEncrypted Code = 15
	// ErrCancelled: the call was ended by Client.Cancel from another
	// goroutine; the connection is closed. A message whose final reply was
	// not read is not reported as sent. errors.Is(err, context.Canceled)
	// is also true for it.
	ErrCancelled Code = 16
	// ErrOutcomeUnknown: a pool's message went out in full, then the
	// connection ended before the reply that decides it.
	ErrOutcomeUnknown Code = 17
	// ErrResponse: a reply could not be accepted (SMTPResponseException).
	ErrResponse Code = 20
	// ErrConnectReply: the greeting was not 220 (SMTPConnectError).
	ErrConnectReply Code = 21
	// ErrHelo: both EHLO and HELO were refused (SMTPHeloError).
	ErrHelo Code = 22
	// ErrNotSupported: the server does not offer what the call needs
	// (SMTPNotSupportedError).
	ErrNotSupported Code = 23
	// ErrAuth: authentication was refused (SMTPAuthenticationError).
	ErrAuth Code = 24
	// ErrAuthAborted: the client aborted the exchange (a SASL callback
	// returned an error or panicked, or a challenge was not valid base64).
	ErrAuthAborted Code = 25
	// ErrSenderRefused: MAIL FROM was refused (SMTPSenderRefused).
	ErrSenderRefused Code = 26
	// ErrRecipientsRefused: every recipient was refused, or a 421 came
	// during RCPT (SMTPRecipientsRefused). Error.Refused has them.
	ErrRecipientsRefused Code = 27
	// ErrData: DATA or the message was refused (SMTPDataError).
	ErrData Code = 28
	// ErrSMTP: another protocol failure (SMTPException).
	ErrSMTP Code = 29
	// ErrTooLarge: the message is larger than the server's SIZE; nothing
	// was sent.
	ErrTooLarge Code = 30
)

var codeNames = map[Code]string{
	0:                     "OK",
	ErrNullArgument:       "ErrNullArgument",
	ErrInvalidArgument:    "ErrInvalidArgument",
	ErrBadState:           "ErrBadState",
	ErrPanic:              "ErrPanic",
	ErrConnect:            "ErrConnect",
	ErrTimeout:            "ErrTimeout",
	ErrIO:                 "ErrIO",
	ErrTLS:                "ErrTLS",
	ErrServerDisconnected: "ErrServerDisconnected",
	ErrNotEncrypted:       "ErrNotEncrypted",
	ErrCancelled:          "ErrCancelled",
	ErrOutcomeUnknown:     "ErrOutcomeUnknown",
	ErrResponse:           "ErrResponse",
	ErrConnectReply:       "ErrConnectReply",
	ErrHelo:               "ErrHelo",
	ErrNotSupported:       "ErrNotSupported",
	ErrAuth:               "ErrAuth",
	ErrAuthAborted:        "ErrAuthAborted",
	ErrSenderRefused:      "ErrSenderRefused",
	ErrRecipientsRefused:  "ErrRecipientsRefused",
	ErrData:               "ErrData",
	ErrSMTP:               "ErrSMTP",
	ErrTooLarge:           "ErrTooLarge",
}

// String gives the constant's Go name ("ErrRecipientsRefused").
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Error gives the library's description of the code (smtp_result_str).
func (c Code) Error() string {
	return "smtp: " + C.GoString(C.smtp_result_str(C.int(c)))
}

// Is makes ErrCancelled match context.Canceled, so that code checking for
// a cancelled operation the standard way finds a cancelled call too.
func (c Code) Is(target error) bool {
	return c == ErrCancelled && target == context.Canceled
}

// Exception names the exception Python's smtplib raises for the failure
// the code reports ("SMTPSenderRefused", "OSError", "ValueError"; the
// library's smtp_result_exception), "" for 0 and unknown codes: for
// programs that talk about failures in smtplib's terms.
func (c Code) Exception() string {
	p := C.smtp_result_exception(C.int(c))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// Reply is a server reply: smtplib's (code, message) pair. Text is each line
// without its code, lines joined with "\n"; Code is -1 when the server sent
// no number where the code belongs.
type Reply struct {
	Code int
	Text string
}

func (r Reply) String() string {
	return strconv.Itoa(r.Code) + " " + r.Text
}

// Error is what every failing call returns. Use errors.As to get it and
// errors.Is with a Code to test for one.
type Error struct {
	// Code is the library's result code.
	Code Code
	// Op names the call that failed ("sendmail", "connect", ...).
	Op string
	// Message says what happened in detail (smtp_session_errmsg).
	Message string
	// ReplyCode and ReplyText are the server reply behind the error (as in
	// smtplib's SMTPResponseException) for ErrResponse, ErrConnectReply,
	// ErrHelo, ErrAuth, ErrAuthAborted, ErrSenderRefused,
	// ErrRecipientsRefused and ErrData; zero otherwise.
	ReplyCode int
	ReplyText string
	// Refused holds, for ErrRecipientsRefused, each refused recipient with
	// its reply (smtplib's SMTPRecipientsRefused.recipients).
	Refused map[string]Reply
	// Sender is, for ErrSenderRefused, the sender the server refused
	// (smtplib's SMTPSenderRefused.sender): the one given, or the one
	// SendMessage found in the headers (smtp_session_sender).
	Sender string
	// Err is the cause on the Go side, when there is one: the context's
	// error (context.Canceled, context.DeadlineExceeded) when the context
	// ended the call, the error a SASL callback or a message reader
	// returned, or a *CallbackPanic.
	Err error
}

func (e *Error) Error() string {
	s := "smtp: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the Go-side cause (Err), if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the Code of this error, so that
// errors.Is(err, smtp.ErrAuth) works. For ErrCancelled context.Canceled
// matches too, unless a context's deadline ended the call: then
// context.DeadlineExceeded matches (through Err) and context.Canceled
// does not.
func (e *Error) Is(target error) bool {
	if c, ok := target.(Code); ok {
		return c == e.Code
	}
	if e.Code == ErrCancelled && target == context.Canceled {
		return !errors.Is(e.Err, context.DeadlineExceeded)
	}
	return false
}

// CallbackPanic is the cause (Error.Err) when a Go callback panicked: the
// panic was recovered at the boundary and the exchange aborted.
type CallbackPanic struct {
	Value interface{}
	Stack []byte
}

func (p *CallbackPanic) Error() string {
	return fmt.Sprintf("callback panicked: %v", p.Value)
}

// carriesReply tells which codes have a server reply behind them: the
// library's answer (smtp_result_has_reply), not a list kept here.
func carriesReply(c Code) bool {
	return C.smtp_result_has_reply(C.int(c)) != 0
}

// libraryCodes lists every result code the library has with its C name
// (smtp_result_count, smtp_result_code_at, smtp_result_name), for the test
// that checks the constants above against it.
func libraryCodes() map[Code]string {
	out := map[Code]string{}
	for i := C.size_t(0); i < C.smtp_result_count(); i++ {
		c := C.smtp_result_code_at(i)
		out[Code(c)] = C.GoString(C.smtp_result_name(c))
	}
	return out
}
