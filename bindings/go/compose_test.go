package smtp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// A part of a message as a reader sees it: Go's own parsers (net/mail,
// mime/multipart), independent of the library.
type seenPart struct {
	ContentType, Disposition, Filename, ContentID string
	Body                                          []byte // decoded
}

type seenMessage struct {
	Header mail.Header
	Parts  []seenPart // the leaves, in order
}

// parseMessage reads eml with net/mail and walks its MIME tree.
func parseMessage(t *testing.T, eml []byte) seenMessage {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(eml))
	if err != nil {
		t.Fatalf("net/mail: %v", err)
	}
	var seen seenMessage
	seen.Header = msg.Header
	walkPart(t, msg.Header, msg.Body, &seen.Parts)
	return seen
}

func walkPart(t *testing.T, h map[string][]string, body io.Reader, out *[]seenPart) {
	t.Helper()
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ctype, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(ctype, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			walkPart(t, p.Header, p, out)
		}
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	switch enc := strings.ToLower(get("Content-Transfer-Encoding")); enc {
	case "base64":
		data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(raw)))
	case "quoted-printable":
		data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	case "", "7bit", "8bit":
		data = raw
	default:
		t.Fatalf("transfer encoding %q", enc)
	}
	if err != nil {
		t.Fatalf("decoding a %s part: %v", ctype, err)
	}
	p := seenPart{ContentType: ctype, Body: data, ContentID: get("Content-Id")}
	if d := get("Content-Disposition"); d != "" {
		disp, dparams, err := mime.ParseMediaType(d) // decodes RFC 2231 file names
		if err != nil {
			t.Fatalf("Content-Disposition %q: %v", d, err)
		}
		p.Disposition, p.Filename = disp, dparams["filename"]
	}
	*out = append(*out, p)
}

func (s seenMessage) part(t *testing.T, ctype string) seenPart {
	t.Helper()
	for _, p := range s.Parts {
		if p.ContentType == ctype {
			return p
		}
	}
	t.Fatalf("no %s part in %+v", ctype, s.Parts)
	return seenPart{}
}

func (s seenMessage) attachment(t *testing.T, filename string) seenPart {
	t.Helper()
	for _, p := range s.Parts {
		if p.Filename == filename {
			return p
		}
	}
	t.Fatalf("no attachment %q", filename)
	return seenPart{}
}

// noise is n bytes that compress badly and are not text.
func noise(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1103515245 + 12345
		b[i] = byte(x >> 16)
	}
	return b
}

// newMessage makes a Message closed when the test ends; must fails the
// test on an error.
func newMessage(t *testing.T) *smtp.Message {
	t.Helper()
	m := smtp.NewMessage()
	t.Cleanup(func() { m.Close() })
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// onlyReader hides every method of r but Read (so: not an io.Seeker).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// fullMessage builds a message with every kind of field and part; id makes
// its Message-ID. The reader attachment is an io.Seeker (rewindable).
func fullMessage(t *testing.T, id string) (*smtp.Message, map[string][]byte) {
	t.Helper()
	files := map[string][]byte{
		"noise.bin":  noise(100_000, 1),
		"report.pdf": noise(3000, 2),
		"größe.txt":  []byte("streamed from an io.Reader\n"),
		"logo":       noise(500, 3),
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	must(t, os.WriteFile(path, files["report.pdf"], 0o600))
	m := newMessage(t)
	must(t, m.SetFrom("Alice Example <alice@example.com>"))
	must(t, m.AddTo("Bob <bob@example.com>", "carol@example.com"))
	must(t, m.AddCc("Dave Ünal <dave@example.com>"))
	must(t, m.AddBcc("hidden@example.com"))
	must(t, m.AddReplyTo("replies@example.com"))
	must(t, m.SetSubject("Grüße aus Köln: a subject long enough to be folded across more than one line of the header"))
	must(t, m.SetDate(time.Date(2024, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))))
	must(t, m.SetMessageID(id))
	must(t, m.AddHeader("X-Go-Test", "compose ✓"))
	must(t, m.SetText("Hello Bob,\nthe report is attached.\n"))
	must(t, m.SetHTML(`<p>Hello <b>Bob</b>, <img src="cid:logo@go.test"></p>`))
	must(t, m.AddInline(files["logo"], "logo@go.test", "image/png"))
	must(t, m.Attach(files["noise.bin"], "noise.bin", ""))
	must(t, m.AttachFile(path, "", "application/pdf"))
	must(t, m.AttachReader(bytes.NewReader(files["größe.txt"]), "größe.txt", "text/plain"))
	return m, files
}

// checkFull checks what a reader sees of fullMessage's message.
func checkFull(t *testing.T, eml []byte, id string, files map[string][]byte) {
	t.Helper()
	seen := parseMessage(t, eml)
	h := seen.Header
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	must(t, err)
	if want := "Grüße aus Köln: a subject long enough to be folded across more than one line of the header"; subject != want {
		t.Errorf("Subject %q", subject)
	}
	from, err := h.AddressList("From")
	must(t, err)
	to, err := h.AddressList("To")
	must(t, err)
	cc, err := h.AddressList("Cc")
	must(t, err)
	if len(from) != 1 || from[0].Name != "Alice Example" || from[0].Address != "alice@example.com" {
		t.Errorf("From %v", from)
	}
	if len(to) != 2 || to[0].Name != "Bob" || to[0].Address != "bob@example.com" || to[1].Address != "carol@example.com" {
		t.Errorf("To %v", to)
	}
	if len(cc) != 1 || cc[0].Name != "Dave Ünal" {
		t.Errorf("Cc %v", cc)
	}
	if h.Get("Bcc") != "" || bytes.Contains(eml, []byte("hidden@")) {
		t.Error("the Bcc recipient is in the message")
	}
	if h.Get("Reply-To") != "replies@example.com" {
		t.Errorf("Reply-To %q", h.Get("Reply-To"))
	}
	if h.Get("Message-Id") != "<"+id+">" {
		t.Errorf("Message-ID %q", h.Get("Message-Id"))
	}
	date, err := h.Date()
	must(t, err)
	if _, off := date.Zone(); !date.Equal(time.Date(2024, 3, 1, 11, 30, 0, 0, time.UTC)) || off != 3600 {
		t.Errorf("Date %v", date)
	}
	if x, _ := dec.DecodeHeader(h.Get("X-Go-Test")); x != "compose ✓" {
		t.Errorf("X-Go-Test %q", x)
	}
	if text := seen.part(t, "text/plain").Body; string(text) != "Hello Bob,\r\nthe report is attached.\r\n" {
		t.Errorf("text %q", text)
	}
	if html := seen.part(t, "text/html").Body; !bytes.Contains(html, []byte(`cid:logo@go.test`)) {
		t.Errorf("html %q", html)
	}
	logo := seen.part(t, "image/png")
	if logo.ContentID != "<logo@go.test>" || !bytes.Equal(logo.Body, files["logo"]) {
		t.Errorf("inline part: Content-ID %q, %d bytes", logo.ContentID, len(logo.Body))
	}
	for name, ctype := range map[string]string{
		"noise.bin": "application/octet-stream", "report.pdf": "application/pdf", "größe.txt": "text/plain",
	} {
		p := seen.attachment(t, name)
		if p.ContentType != ctype || p.Disposition != "attachment" || sha256.Sum256(p.Body) != sha256.Sum256(files[name]) {
			t.Errorf("attachment %s: %s %s, %d bytes (want %d)", name, p.ContentType, p.Disposition, len(p.Body), len(files[name]))
		}
	}
	for _, line := range bytes.Split(eml, []byte("\r\n")) {
		if len(line) > 998 || bytes.IndexByte(line, '\n') >= 0 {
			t.Fatalf("a line of %d bytes, or a bare LF: %.60q", len(line), line)
		}
	}
}

// A message with every kind of field and part is sent with SendComposed
// and arrives as Go's parsers read it back: addresses, encoded Subject,
// Date, text, HTML, the inline part, the attachments byte for byte, and
// the envelope from its headers (Bcc in the envelope only). Its bytes
// are Bytes' and WriteTo's.
func TestSendComposed(t *testing.T) {
	checkHandles(t)
	id := fmt.Sprintf("full-%d@go.test", time.Now().UnixNano())
	m, files := fullMessage(t, id)
	want, err := m.Bytes()
	must(t, err)
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	must(t, err)
	if n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteTo wrote %d bytes, Bytes gave %d", n, len(want))
	}
	checkFull(t, want, id, files)

	c := dial(t, sinkAddr)
	refused, err := c.SendComposed(ctx, m)
	must(t, err)
	if len(refused) != 0 {
		t.Fatalf("refused %v", refused)
	}
	got := findMessage(t, sinkDir, id)
	if !bytes.Equal(got.Eml, want) {
		t.Fatalf("arrived %d bytes, Bytes gave %d", len(got.Eml), len(want))
	}
	rcpts := append([]string(nil), got.Meta.RcptTos...)
	sort.Strings(rcpts)
	if got.Meta.MailFrom != "alice@example.com" ||
		strings.Join(rcpts, " ") != "bob@example.com carol@example.com dave@example.com hidden@example.com" {
		t.Fatalf("envelope %q -> %q", got.Meta.MailFrom, rcpts)
	}
	if s := c.Sender(); s != "alice@example.com" {
		t.Fatalf("Sender() = %q", s)
	}
}

// The Pool sends a composed message too; MailOptions and RcptOptions
// apply, EnvelopeFrom and EnvelopeTo are refused.
func TestPoolSendComposed(t *testing.T) {
	checkHandles(t)
	p, err := smtp.NewPool(sinkAddr, 2, smtp.WithTimeout(20*time.Second))
	must(t, err)
	defer p.Close()
	id := fmt.Sprintf("pool-%d@go.test", time.Now().UnixNano())
	m := newMessage(t)
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.AddTo("bob@example.com", "refuse@example.com"))
	must(t, m.SetMessageID(id))
	must(t, m.SetText("through the pool"))
	must(t, m.AttachReader(strings.NewReader("read by the pool"), "r.txt", ""))
	refused, err := p.SendComposed(ctx, m, smtp.MailOptions("BODY=8BITMIME"))
	must(t, err)
	if len(refused) != 1 || refused["refuse@example.com"].Code != 550 {
		t.Fatalf("refused %v", refused)
	}
	got := findMessage(t, sinkDir, id)
	if part := parseMessage(t, got.Eml).attachment(t, "r.txt"); string(part.Body) != "read by the pool" {
		t.Fatalf("attachment %q", part.Body)
	}
	_, err = p.SendComposed(ctx, m, smtp.EnvelopeTo("x@example.com"))
	wantCode(t, err, smtp.ErrInvalidArgument)
	_, err = p.SendComposed(ctx, nil)
	wantCode(t, err, smtp.ErrNullArgument)
}

type failingWriter struct {
	after int
	err   error
	panic bool
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after > 0 {
		w.after--
		return len(p), nil
	}
	if w.panic {
		panic("writer exploded")
	}
	return 0, w.err
}

// A writer that fails or panics stops WriteTo: ErrIO with the cause in
// Err; the message stays usable.
func TestWriteToFails(t *testing.T) {
	checkHandles(t)
	m := newMessage(t)
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.Attach(noise(300_000, 4), "big.bin", ""))
	boom := errors.New("disk full")
	_, err := m.WriteTo(&failingWriter{after: 1, err: boom})
	if e := wantCode(t, err, smtp.ErrIO); e.Err != boom || !errors.Is(err, boom) {
		t.Fatalf("%+v, want the writer's error", e)
	}
	_, err = m.WriteTo(&failingWriter{panic: true})
	wantCode(t, err, smtp.ErrIO)
	var p *smtp.CallbackPanic
	if !errors.As(err, &p) || p.Value != "writer exploded" {
		t.Fatalf("%v, want a CallbackPanic", err)
	}
	if _, err := m.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	_, err = m.WriteTo(nil)
	wantCode(t, err, smtp.ErrNullArgument)
}

// A reader attachment that fails or panics aborts the send with the
// connection closed mid-message: ErrIO with the cause in Err, nothing
// delivered. One that is not an io.Seeker can be written only once.
func TestAttachReaderFails(t *testing.T) {
	checkHandles(t)
	boom := errors.New("disk on fire")
	id := fmt.Sprintf("failing-%d@go.test", time.Now().UnixNano())
	m := newMessage(t)
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.AddTo("bob@example.com"))
	must(t, m.SetMessageID(id))
	must(t, m.AttachReader(&failingReader{n: 200_000, err: boom}, "f.bin", ""))
	c := dial(t, sinkAddr)
	_, err := c.SendComposed(ctx, m)
	if e := wantCode(t, err, smtp.ErrIO); e.Err != boom {
		t.Fatalf("%+v, want the reader's error", e)
	}
	if c.IsConnected() {
		t.Fatal("still connected after an aborted message")
	}
	// Not an io.Seeker: a second write is refused by name.
	_, err = m.Bytes()
	wantNoRewind(t, err)

	m2 := newMessage(t)
	must(t, m2.SetFrom("alice@example.com"))
	must(t, m2.AddTo("bob@example.com"))
	must(t, m2.AttachReader(&failingReader{n: 10, panic: true}, "p.bin", ""))
	_, err = c.Connect(ctx, sinkAddr)
	must(t, err)
	_, err = c.SendComposed(ctx, m2)
	wantCode(t, err, smtp.ErrIO)
	var p *smtp.CallbackPanic
	if !errors.As(err, &p) || p.Value != "reader exploded" {
		t.Fatalf("%v, want a CallbackPanic", err)
	}
	time.Sleep(200 * time.Millisecond)
	if names, _ := filepath.Glob(filepath.Join(sinkDir, "*.eml")); containsMarker(names, id) {
		t.Fatal("a partial message was delivered")
	}

	// A plain io.Reader is written once; rewinding needs a Seeker.
	m3 := newMessage(t)
	must(t, m3.SetFrom("alice@example.com"))
	must(t, m3.AttachReader(onlyReader{strings.NewReader("once")}, "once.txt", ""))
	first, err := m3.Bytes()
	must(t, err)
	if !bytes.Contains(first, []byte(base64.StdEncoding.EncodeToString([]byte("once")))) {
		t.Fatal("the reader's bytes are not in the message")
	}
	_, err = m3.Bytes()
	wantNoRewind(t, err)
}

// wantNoRewind checks the error of a second write of a reader that cannot
// rewind: ErrInvalidArgument, before anything is written, saying why.
func wantNoRewind(t *testing.T, err error) {
	t.Helper()
	var e *smtp.Error
	if !errors.As(err, &e) || e.Code != smtp.ErrInvalidArgument || !strings.Contains(e.Message, "rewind") {
		t.Fatalf("%v, want a refusal to read a reader twice", err)
	}
}

func containsMarker(names []string, marker string) bool {
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil && bytes.Contains(b, []byte(marker)) {
			return true
		}
	}
	return false
}

// The send's context is checked between a reader's reads: a reader that
// never ends is stopped by the deadline, with ErrCancelled.
func TestSendComposedContext(t *testing.T) {
	checkHandles(t)
	m := newMessage(t)
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.AddTo("bob@example.com"))
	must(t, m.AttachReader(&slowReader{}, "slow.txt", ""))
	c := dial(t, sinkAddr)
	cctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.SendComposed(cctx, m)
	took := time.Since(start)
	wantCode(t, err, smtp.ErrCancelled)
	if !errors.Is(err, context.DeadlineExceeded) || took > 400*time.Millisecond {
		t.Fatalf("%v after %v", err, took)
	}
}

// Bad input gets a clear code and message, never a crash: NUL, CR and LF
// in arguments, fields the builder writes itself, no From, a closed
// Message; and calls from inside a reader on the same Message or the
// sending Client are ErrBadState.
func TestMessageArguments(t *testing.T) {
	checkHandles(t)
	m := newMessage(t)
	wantCode(t, m.SetSubject("a\x00b"), smtp.ErrInvalidArgument)
	e := wantCode(t, m.SetSubject("a\r\nBcc: x@example.com"), smtp.ErrInvalidArgument)
	if e.Message == "" || e.Op != "message_set_subject" {
		t.Fatalf("%+v", e)
	}
	wantCode(t, m.AddHeader("From", "x@example.com"), smtp.ErrInvalidArgument)
	wantCode(t, m.AddHeader("Bad:Name", "x"), smtp.ErrInvalidArgument)
	wantCode(t, m.AddTo(), smtp.ErrInvalidArgument)
	wantCode(t, m.AddTo("not an address <"), smtp.ErrInvalidArgument)
	wantCode(t, m.AttachReader(nil, "x", ""), smtp.ErrNullArgument)
	_, err := m.Bytes()
	if e := wantCode(t, err, smtp.ErrInvalidArgument); !strings.Contains(strings.ToLower(e.Message), "from") {
		t.Fatalf("no From: %q", e.Message)
	}
	c := dial(t, sinkAddr)
	_, err = c.SendComposed(ctx, m)
	wantCode(t, err, smtp.ErrInvalidArgument)
	_, err = c.SendComposed(ctx, nil)
	wantCode(t, err, smtp.ErrNullArgument)
	_, err = c.SendComposed(ctx, m, smtp.EnvelopeFrom("x@example.com"))
	wantCode(t, err, smtp.ErrInvalidArgument)

	// Reentrancy: the reader calls the message and the Client.
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.AddTo("bob@example.com"))
	var inner []error
	must(t, m.AttachReader(funcReader(func(p []byte) (int, error) {
		inner = append(inner, m.SetSubject("changed"))
		_, err := c.Noop(ctx)
		inner = append(inner, err)
		return 0, io.EOF
	}), "r.txt", ""))
	_, err = c.SendComposed(ctx, m)
	must(t, err)
	if len(inner) != 2 {
		t.Fatalf("the reader ran %d times", len(inner)/2)
	}
	wantCode(t, inner[0], smtp.ErrBadState)
	wantCode(t, inner[1], smtp.ErrBadState)

	must(t, m.Close())
	must(t, m.Close())
	wantCode(t, m.SetText("x"), smtp.ErrBadState)
	_, err = c.SendComposed(ctx, m)
	wantCode(t, err, smtp.ErrBadState)
}

type funcReader func([]byte) (int, error)

func (f funcReader) Read(p []byte) (int, error) { return f(p) }
