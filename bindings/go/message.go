package smtp

// Message: the MIME message builder (smtp_message_*). Sending it is
// compose.go; its Go callbacks (attachment readers, the writer of WriteTo)
// are in compose_callbacks.go.

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>

// The Go callbacks (compose_callbacks.go), as cgo exports them.
extern ptrdiff_t libsmtpGoPartRead(void *, uint8_t *, size_t);
extern int libsmtpGoPartRewind(void *);
extern int libsmtpGoWrite(void *, uint8_t *, size_t);

// The userdata is a runtime/cgo.Handle (see libsmtp_go_set_trace).
static int libsmtp_go_attach_reader(smtp_message *m, uintptr_t h, int rewind, const char *filename,
	const char *content_type)
{
	return smtp_message_attach_callback(m, (smtp_read_fn)libsmtpGoPartRead,
		rewind ? (smtp_rewind_fn)libsmtpGoPartRewind : NULL, (void *)h, filename, content_type);
}

static int libsmtp_go_message_write(smtp_message *m, uintptr_t h)
{
	return smtp_message_write(m, (smtp_write_fn)libsmtpGoWrite, (void *)h);
}
*/
import "C"

import (
	"context"
	"io"
	"runtime"
	"runtime/cgo"
	"time"
	"unsafe"
)

// Message is an email built field by field and part by part (the
// library's MIME builder): addresses with display names, Subject, Date,
// Message-ID, other header fields, a text and an HTML part, attachments
// from memory, files or io.Readers, inline parts the HTML shows, and
// optionally a DKIM signature. Make it with NewMessage; send it with
// Client.SendComposed or Pool.SendComposed, or get its bytes with Bytes
// or WriteTo. Close frees it (a finalizer does if it is forgotten).
//
// What it writes: CRLF line ends; header fields folded to 78 characters,
// non-ASCII text as RFC 2047 encoded words and file names as RFC 2231
// parameters; text and HTML as multipart/alternative, inline parts with
// the HTML in multipart/related, attachments after them in
// multipart/mixed; each text part 7bit, quoted-printable or base64,
// whichever is shortest; attachments base64. No Bcc field is written.
// Date and Message-ID are made at the first write when not set, and kept:
// every later write gives the same bytes.
//
// A Message runs one call at a time: a call made while another (a send
// on another goroutine) runs waits for it. From inside one of its
// attachment readers or its WriteTo writer, its methods return
// ErrBadState.
type Message struct {
	// sem is the message's lock, as a Client's (a send may wait for it
	// with a context).
	sem chan struct{}
	m   *C.smtp_message
	st  *composeState
	// parts are the handles of the reader attachments, deleted by Close.
	parts []cgo.Handle
}

// composeState is what a Message's callbacks reach through their
// cgo.Handles: never the Message itself, so that a forgotten Message can
// still be finalized.
type composeState struct {
	guard *callbackGuard
	// call is the write or send running on the message, nil between them:
	// set and cleared under the Message's lock, read by the callbacks on
	// the goroutine of that call.
	call *composeCall
}

// composeCall is the state of one write or send of a Message.
type composeCall struct {
	ctx context.Context // nil for Bytes and WriteTo
	// client is the sending Client's guard, entered too while a reader
	// runs (nil for writes and pool sends).
	client *callbackGuard
	// err is why a callback aborted the call (the first reason).
	err error
}

func (call *composeCall) fail(err error) {
	if call.err == nil {
		call.err = err
	}
}

// NewMessage makes an empty message.
func NewMessage() *Message {
	m := &Message{sem: make(chan struct{}, 1), m: C.smtp_message_new(), st: &composeState{guard: &callbackGuard{}}}
	runtime.SetFinalizer(m, (*Message).Close)
	return m
}

// Close frees the message, with its copies of attachments in memory (its
// readers are not called, nor closed). It waits for a send running on the
// message. It is idempotent; the other methods then return ErrBadState.
func (m *Message) Close() error {
	if err := lockSem(nil, m.sem, m.st.guard, "message_free", "message"); err != nil {
		return err
	}
	defer m.unlock()
	if m.m == nil {
		return nil
	}
	C.smtp_message_free(m.m)
	m.m = nil
	for _, h := range m.parts {
		deleteHandle(h)
	}
	m.parts = nil
	runtime.SetFinalizer(m, nil)
	return nil
}

// Free is Close.
func (m *Message) Free() { m.Close() }

// acquire takes the message's lock for one call (see lockSem).
func (m *Message) acquire(ctx context.Context, op string) error {
	if err := lockSem(ctx, m.sem, m.st.guard, op, "message"); err != nil {
		return err
	}
	if m.m == nil {
		m.unlock()
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed Message"}
	}
	return nil
}

func (m *Message) unlock() { <-m.sem }

func (m *Message) check(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return &Error{Code: Code(rc), Op: op, Message: C.GoString(C.smtp_message_errmsg(m.m))}
}

// do runs one builder call under the message's lock.
func (m *Message) do(op string, f func(cm *C.smtp_message) C.int) error {
	if err := m.acquire(nil, op); err != nil {
		return err
	}
	defer m.unlock()
	return m.check(op, f(m.m))
}

// withStrings runs one builder call with C copies of its string arguments;
// an empty one is NULL when optional says so.
func (m *Message) withStrings(op string, args []cArg, f func(cm *C.smtp_message, s []*C.char) C.int) error {
	cs := make([]*C.char, len(args))
	defer func() {
		for _, p := range cs {
			C.free(unsafe.Pointer(p))
		}
	}()
	for i, a := range args {
		var err error
		if a.optional {
			cs[i], err = optCString(op, a.what, a.s)
		} else {
			cs[i], err = cstring(op, a.what, a.s)
		}
		if err != nil {
			return err
		}
	}
	return m.do(op, func(cm *C.smtp_message) C.int { return f(cm, cs) })
}

// cArg is a string argument of a builder call.
type cArg struct {
	what, s  string
	optional bool // "" is NULL
}

func arg(what, s string) cArg    { return cArg{what: what, s: s} }
func optArg(what, s string) cArg { return cArg{what: what, s: s, optional: true} }

// addresses adds each of addrs with f (To, Cc, Bcc, Reply-To).
func (m *Message) addresses(op string, addrs []string, f func(*C.smtp_message, *C.char) C.int) error {
	if len(addrs) == 0 {
		return &Error{Code: ErrInvalidArgument, Op: op, Message: "no address given"}
	}
	for _, a := range addrs {
		if err := m.withStrings(op, []cArg{arg("address", a)}, func(cm *C.smtp_message, s []*C.char) C.int {
			return f(cm, s[0])
		}); err != nil {
			return err
		}
	}
	return nil
}

// SetFrom sets From (RFC 5322 3.6.2), replacing any before: a mailbox
// such as "Zoë <zoe@example.com>" or "zoe@example.com", or several
// separated by commas. The display name may be any UTF-8; a domain beyond
// ASCII is written as A-labels; a local part beyond ASCII needs the
// server's SMTPUTF8 when sent (RFC 6531). The first From is the envelope
// sender unless a Sender is set. Required.
func (m *Message) SetFrom(addr string) error {
	return m.withStrings("message_set_from", []cArg{arg("address", addr)}, func(cm *C.smtp_message, s []*C.char) C.int {
		return C.smtp_message_set_from(cm, s[0])
	})
}

// SetSender sets Sender (one mailbox), the envelope sender when set; ""
// removes it.
func (m *Message) SetSender(addr string) error {
	return m.withStrings("message_set_sender", []cArg{optArg("address", addr)}, func(cm *C.smtp_message, s []*C.char) C.int {
		return C.smtp_message_set_sender(cm, s[0])
	})
}

// AddTo adds To recipients: each a mailbox or several separated by
// commas, as for SetFrom. To, Cc and Bcc together are the envelope's
// recipients.
func (m *Message) AddTo(addrs ...string) error {
	return m.addresses("message_add_to", addrs, func(cm *C.smtp_message, s *C.char) C.int {
		return C.smtp_message_add_to(cm, s)
	})
}

// AddCc adds Cc recipients, as AddTo.
func (m *Message) AddCc(addrs ...string) error {
	return m.addresses("message_add_cc", addrs, func(cm *C.smtp_message, s *C.char) C.int {
		return C.smtp_message_add_cc(cm, s)
	})
}

// AddBcc adds Bcc recipients: in the envelope only, no Bcc field is ever
// written.
func (m *Message) AddBcc(addrs ...string) error {
	return m.addresses("message_add_bcc", addrs, func(cm *C.smtp_message, s *C.char) C.int {
		return C.smtp_message_add_bcc(cm, s)
	})
}

// AddReplyTo adds Reply-To mailboxes.
func (m *Message) AddReplyTo(addrs ...string) error {
	return m.addresses("message_add_reply_to", addrs, func(cm *C.smtp_message, s *C.char) C.int {
		return C.smtp_message_add_reply_to(cm, s)
	})
}

// SetSubject sets Subject: any UTF-8 text without CR, LF or NUL, folded
// and encoded as needed.
func (m *Message) SetSubject(subject string) error {
	return m.withStrings("message_set_subject", []cArg{arg("subject", subject)}, func(cm *C.smtp_message, s []*C.char) C.int {
		return C.smtp_message_set_subject(cm, s[0])
	})
}

// SetDate sets Date to t, written at t's offset from UTC (in whole
// minutes). When never set, the time of the first write, in UTC.
func (m *Message) SetDate(t time.Time) error {
	_, offset := t.Zone()
	return m.do("message_set_date", func(cm *C.smtp_message) C.int {
		return C.smtp_message_set_date(cm, C.int64_t(t.Unix()), C.int(offset/60))
	})
}

// SetMessageID sets Message-ID: "id@domain", angle brackets optional.
// When never set, 128 random bits at the From domain, made at the first
// write.
func (m *Message) SetMessageID(id string) error {
	return m.withStrings("message_set_message_id", []cArg{arg("message id", id)}, func(cm *C.smtp_message, s []*C.char) C.int {
		return C.smtp_message_set_message_id(cm, s[0])
	})
}

// AddHeader adds another header field (In-Reply-To, References,
// List-Unsubscribe, X-...), written after the builder's own fields in the
// order added; the value is unstructured text, encoded when not ASCII and
// folded. The fields the builder writes itself (From, To, Subject, Date,
// Message-ID, MIME-Version, Content-*, DKIM-Signature...) are
// ErrInvalidArgument, as is a name outside printable ASCII or with a
// colon, and CR, LF or NUL in the value.
func (m *Message) AddHeader(name, value string) error {
	return m.withStrings("message_add_header", []cArg{arg("name", name), arg("value", value)},
		func(cm *C.smtp_message, s []*C.char) C.int { return C.smtp_message_add_header(cm, s[0], s[1]) })
}

// SetText sets the plain text part (UTF-8; LF, CR and CRLF line ends all
// written as CRLF); "" removes it.
func (m *Message) SetText(text string) error {
	b := []byte(text)
	return m.do("message_set_text", func(cm *C.smtp_message) C.int {
		return C.smtp_message_set_text(cm, (*C.char)(unsafe.Pointer(bytesPtr(b))), C.size_t(len(b)))
	})
}

// SetHTML sets the HTML part, as SetText. With a text part too, the two
// are alternatives (the reader shows one); inline parts (AddInline) go
// with it.
func (m *Message) SetHTML(html string) error {
	b := []byte(html)
	return m.do("message_set_html", func(cm *C.smtp_message) C.int {
		return C.smtp_message_set_html(cm, (*C.char)(unsafe.Pointer(bytesPtr(b))), C.size_t(len(b)))
	})
}

// Attach attaches data (copied now) as filename ("": none; any UTF-8) of
// contentType ("type/subtype"; "": guessed from the file name's extension,
// else application/octet-stream).
func (m *Message) Attach(data []byte, filename, contentType string) error {
	return m.withStrings("message_attach_memory", []cArg{optArg("filename", filename), optArg("content type", contentType)},
		func(cm *C.smtp_message, s []*C.char) C.int {
			return C.smtp_message_attach_memory(cm, bytesPtr(data), C.size_t(len(data)), s[0], s[1])
		})
}

// AttachFile attaches the file at path, opened and read a chunk at a time
// each time the message is written or sent (never held whole in memory;
// a missing file is reported then, before anything is sent). filename "":
// the path's last component; contentType as Attach.
func (m *Message) AttachFile(path, filename, contentType string) error {
	return m.withStrings("message_attach_file",
		[]cArg{arg("path", path), optArg("filename", filename), optArg("content type", contentType)},
		func(cm *C.smtp_message, s []*C.char) C.int {
			return C.smtp_message_attach_file(cm, s[0], s[1], s[2])
		})
}

// AttachReader attaches what r gives, read a chunk at a time on the
// goroutine of each write or send (Bytes, WriteTo, SendComposed) while
// the message goes out; filename and contentType as Attach. Its size
// being unknown, no SIZE= is announced for the message.
//
// The message is written more than once when it is signed (DKIM reads
// every part twice), written or sent again, or resent by a Pool on a new
// connection. So when r is also an io.Seeker (an *os.File, a
// *bytes.Reader) each later write seeks it back to where it was when
// attached. Any other reader can be written once: a later write fails,
// saying the reader cannot be rewound, and a signed write is refused
// (ErrInvalidArgument).
//
// r failing, panicking, or a send's context ending between reads, aborts
// the write or send: ErrIO with the reader's error (or a *CallbackPanic)
// as Error.Err (ErrCancelled after the context), and a send closes the
// connection mid-message so that nothing partial is delivered. The
// message keeps r until Close; it never closes it.
func (m *Message) AttachReader(r io.Reader, filename, contentType string) error {
	const op = "message_attach_callback"
	if r == nil {
		return &Error{Code: ErrNullArgument, Op: op, Message: "nil io.Reader"}
	}
	part := &readerPart{pull: pull{r: r}, st: m.st}
	if s, ok := r.(io.Seeker); ok {
		// A Seeker that cannot tell where it is (a pipe) cannot go back.
		if at, err := s.Seek(0, io.SeekCurrent); err == nil {
			part.seeker, part.start = s, at
		}
	}
	h := newHandle(part)
	err := m.withStrings(op, []cArg{optArg("filename", filename), optArg("content type", contentType)},
		func(cm *C.smtp_message, s []*C.char) C.int {
			rc := C.libsmtp_go_attach_reader(cm, C.uintptr_t(h), cbool(part.seeker != nil), s[0], s[1])
			if rc == 0 {
				m.parts = append(m.parts, h) // under the lock, as Close reads it
			}
			return rc
		})
	if err != nil {
		deleteHandle(h)
	}
	return err
}

// AddInline adds an inline part (copied now) for the HTML part to show as
// "cid:contentID" (RFC 2392): contentID printable ASCII, angle brackets
// optional, unique in the message. Written with the HTML in
// multipart/related (RFC 2387); without an HTML part, beside the
// attachments. contentType "": application/octet-stream.
func (m *Message) AddInline(data []byte, contentID, contentType string) error {
	return m.withStrings("message_add_inline_memory", []cArg{arg("content id", contentID), optArg("content type", contentType)},
		func(cm *C.smtp_message, s []*C.char) C.int {
			return C.smtp_message_add_inline_memory(cm, bytesPtr(data), C.size_t(len(data)), s[0], s[1])
		})
}

// AddInlineFile adds an inline part read from the file at path when the
// message is written, as AddInline and AttachFile (contentType "":
// guessed from the path's extension).
func (m *Message) AddInlineFile(path, contentID, contentType string) error {
	return m.withStrings("message_add_inline_file",
		[]cArg{arg("path", path), arg("content id", contentID), optArg("content type", contentType)},
		func(cm *C.smtp_message, s []*C.char) C.int {
			return C.smtp_message_add_inline_file(cm, s[0], s[1], s[2])
		})
}

// SetDKIM signs every later write and send of the message with a copy of
// d's settings as they are now; nil stops signing. Signing reads every
// part twice: files are opened again, readers must be io.Seekers (see
// AttachReader).
func (m *Message) SetDKIM(d *DKIM) error {
	const op = "message_set_dkim"
	if d == nil {
		return m.do(op, func(cm *C.smtp_message) C.int { return C.smtp_message_set_dkim(cm, nil) })
	}
	if err := d.lock(op); err != nil {
		return err
	}
	defer d.mu.Unlock()
	return m.do(op, func(cm *C.smtp_message) C.int { return C.smtp_message_set_dkim(cm, d.d) })
}

// writing runs a write or a send of the message under its lock (a send's
// wait for it ends with ctx), with the call's state where its callbacks
// find it; an error gets the callbacks' cause (see withCause).
func (m *Message) writing(ctx context.Context, op string, client *callbackGuard, f func(cm *C.smtp_message) error) error {
	if err := m.acquire(ctx, op); err != nil {
		return err
	}
	defer m.unlock()
	call := &composeCall{ctx: ctx, client: client}
	m.st.call = call
	defer func() { m.st.call = nil }()
	return withCause(ctx, f(m.m), call.err)
}

// Bytes writes the whole message into memory: what a send would send,
// DKIM signature included (Date and Message-ID are made when not set).
// ErrInvalidArgument with no From; ErrIO when a part cannot be read.
// Large messages stream better through WriteTo or the sends.
func (m *Message) Bytes() ([]byte, error) {
	const op = "message_bytes"
	var out []byte
	err := m.writing(nil, op, nil, func(cm *C.smtp_message) error {
		var data *C.uint8_t
		var n C.size_t
		if err := m.check(op, C.smtp_message_bytes(cm, &data, &n)); err != nil {
			return err
		}
		out = make([]byte, int(n))
		if n > 0 {
			copy(out, unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WriteTo writes the whole message to w in pieces (at most 64 KiB each),
// attachments read as it goes; the bytes are Bytes'. It returns the count
// w took. ErrIO when a part cannot be read or w fails, with w's error (or
// a *CallbackPanic) as Error.Err. It implements io.WriterTo.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	const op = "message_write"
	if w == nil {
		return 0, &Error{Code: ErrNullArgument, Op: op, Message: "nil io.Writer"}
	}
	wc := &writeCall{w: w, guard: m.st.guard}
	h := newHandle(wc)
	defer deleteHandle(h)
	err := m.writing(nil, op, nil, func(cm *C.smtp_message) error {
		return withCause(nil, m.check(op, C.libsmtp_go_message_write(cm, C.uintptr_t(h))), wc.err)
	})
	return wc.n, err
}
