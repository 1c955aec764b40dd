package smtp_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func TestVersion(t *testing.T) {
	if v := smtp.Version(); !strings.HasPrefix(v, "0.") {
		t.Fatalf("Version() = %q", v)
	}
}

func TestSendMailArrivesByteIdentical(t *testing.T) {
	checkHandles(t)
	c := dial(t, sinkAddr)
	msg := []byte("From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\n" +
		"Subject: from Go\r\nMessage-ID: <byte-identical@go.test>\r\n\r\nHello from Go.\r\n" +
		".a line starting with a dot\r\n..two dots\r\nbye\r\n")
	refused, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "carol@example.com"}, msg)
	if err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	if len(refused) != 0 {
		t.Fatalf("refused = %v, want none", refused)
	}
	got := findMessage(t, sinkDir, "byte-identical@go.test")
	if !bytes.Equal(got.Eml, msg) {
		t.Fatalf("arrived:\n%q\nwant:\n%q", got.Eml, msg)
	}
	if got.Meta.MailFrom != "alice@example.com" || !reflect.DeepEqual(got.Meta.RcptTos, []string{"bob@example.com", "carol@example.com"}) {
		t.Fatalf("envelope %+v", got.Meta)
	}
	r, err := c.Quit(ctx)
	if err != nil || r.Code != 221 {
		t.Fatalf("Quit = %v, %v", r, err)
	}
	if c.IsConnected() {
		t.Fatal("connected after Quit")
	}
}

func TestSendMailRefusedMap(t *testing.T) {
	c := dial(t, sinkAddr)
	msg := []byte("Subject: some refused\r\nMessage-ID: <refused-map@go.test>\r\n\r\nbody\r\n")
	to := []string{"bob@example.com", "refuse-a@example.com", "refuse-b@example.com"}
	refused, err := c.SendMail(ctx, "alice@example.com", to, msg)
	if err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	if len(refused) != 2 {
		t.Fatalf("refused = %v, want two", refused)
	}
	for _, a := range to[1:] {
		r, ok := refused[a]
		if !ok || r.Code != 550 || !strings.Contains(r.Text, "Recipient address rejected") {
			t.Errorf("refused[%s] = %+v, %v", a, r, ok)
		}
	}
	got := findMessage(t, sinkDir, "refused-map@go.test")
	if !reflect.DeepEqual(got.Meta.RcptTos, []string{"bob@example.com"}) {
		t.Fatalf("delivered to %v", got.Meta.RcptTos)
	}
	rs := c.Recipients()
	if len(rs) != 3 || rs[0].Addr != "bob@example.com" || rs[0].Refused || rs[0].Reply.Code != 250 ||
		!rs[1].Refused || rs[1].Reply.Code != 550 || !rs[2].Refused {
		t.Fatalf("Recipients() = %+v", rs)
	}
}

func TestAllRecipientsRefused(t *testing.T) {
	checkHandles(t)
	c := dial(t, sinkAddr)
	to := []string{"refuse1@example.com", "refuse2@example.com"}
	refused, err := c.SendMail(ctx, "alice@example.com", to, []byte("Subject: x\r\n\r\nnobody\r\n"))
	e := wantCode(t, err, smtp.ErrRecipientsRefused)
	if errors.Is(err, smtp.ErrAuth) {
		t.Error("errors.Is(err, ErrAuth) is true")
	}
	if len(e.Refused) != 2 || e.Refused["refuse1@example.com"].Code != 550 || e.Refused["refuse2@example.com"].Code != 550 {
		t.Fatalf("Error.Refused = %v", e.Refused)
	}
	if !reflect.DeepEqual(refused, e.Refused) {
		t.Fatalf("returned %v, Error.Refused %v", refused, e.Refused)
	}
	if e.ReplyCode != 550 || e.Message == "" || e.Op != "sendmail" {
		t.Fatalf("error %+v", e)
	}
	if !strings.Contains(err.Error(), "sendmail") {
		t.Fatalf("Error() = %q", err.Error())
	}
	// The session went on (RSET): still usable.
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop after the refusal = %v, %v", r, err)
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestConnectClosedPort(t *testing.T) {
	addr := closedPort(t)
	c, err := smtp.Dial(ctx, addr, smtp.WithTimeout(5*time.Second))
	if c != nil {
		t.Fatal("Dial returned a Client with its error")
	}
	e := wantCode(t, err, smtp.ErrConnect)
	if e.Op != "open" || e.ReplyCode != 0 {
		t.Fatalf("error %+v", e)
	}

	c, err = smtp.New(smtp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Connect(ctx, addr)
	wantCode(t, err, smtp.ErrConnect)
	if c.IsConnected() {
		t.Fatal("connected")
	}
	// Nothing to talk to.
	_, err = c.Noop(ctx)
	wantCode(t, err, smtp.ErrServerDisconnected)
	// Then a good address on the same Client.
	if r, err := c.Connect(ctx, sinkAddr); err != nil || r.Code != 220 {
		t.Fatalf("Connect = %v, %v", r, err)
	}
}

func TestGreetingNot220(t *testing.T) {
	serve := func(conn net.Conn) error {
		_, err := conn.Write([]byte("554 5.3.2 too busy\r\n"))
		_, _ = bufio.NewReader(conn).ReadString('\n') // until the client closes
		return err
	}
	_, err := smtp.Dial(ctx, scripted(t, serve))
	e := wantCode(t, err, smtp.ErrConnectReply)
	if e.ReplyCode != 554 || e.ReplyText != "5.3.2 too busy" {
		t.Fatalf("error %+v", e)
	}
	// smtplib's connect(): the greeting is returned, not an error.
	c, err := smtp.New(smtp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Connect(ctx, scripted(t, serve))
	if err != nil || r.Code != 554 || r.Text != "5.3.2 too busy" {
		t.Fatalf("Connect = %+v, %v", r, err)
	}
}

func TestCommands(t *testing.T) {
	c := dial(t, sinkAddr, smtp.WithLocalHostname("client.go.test"))
	if c.Kind() != smtp.SMTP {
		t.Fatalf("Kind() = %v", c.Kind())
	}
	if _, ok := c.EhloResp(); ok {
		t.Fatal("EhloResp before EHLO")
	}
	r, err := c.Ehlo(ctx, "")
	if err != nil || r.Code != 250 {
		t.Fatalf("Ehlo = %v, %v", r, err)
	}
	if !c.DoesESMTP() || !c.HasExtn("SIZE") || !c.HasExtn("8bitmime") || c.HasExtn("x-nothing") {
		t.Fatalf("features %+v", c.Features())
	}
	if resp, ok := c.EhloResp(); !ok || !strings.Contains(resp, "SIZE") {
		t.Fatalf("EhloResp = %q, %v", resp, ok)
	}
	if p, ok := c.Feature("size"); !ok || p != "209715200" {
		t.Fatalf("Feature(size) = %q, %v", p, ok)
	}
	found := false
	for _, f := range c.Features() {
		if f.Name == "size" && f.Params == "209715200" {
			found = true
		}
	}
	if !found {
		t.Fatalf("Features() = %+v", c.Features())
	}
	check := func(name string, r smtp.Reply, err error, code int) {
		t.Helper()
		if err != nil || r.Code != code {
			t.Errorf("%s = %v, %v; want code %d", name, r, err, code)
		}
	}
	r, err = c.Noop(ctx)
	check("Noop", r, err, 250)
	r, err = c.Docmd(ctx, "NOOP", "")
	check("Docmd(NOOP)", r, err, 250)
	r, err = c.Help(ctx, "")
	check("Help", r, err, 250)
	r, err = c.Verify(ctx, "Bob <bob@example.com>")
	check("Verify", r, err, 252)
	r, err = c.Expn(ctx, "list@example.com")
	check("Expn", r, err, 502)
	r, err = c.Helo(ctx, "")
	check("Helo", r, err, 250)
	if h, ok := c.HeloResp(); !ok || h == "" {
		t.Errorf("HeloResp = %q, %v", h, ok)
	}

	// A transaction by hand; Normalize turns the bare LFs into CRLF.
	r, err = c.Mail(ctx, "alice@example.com")
	check("Mail", r, err, 250)
	r, err = c.Rcpt(ctx, "bob@example.com")
	check("Rcpt", r, err, 250)
	r, err = c.Rcpt(ctx, "refuse@example.com")
	check("Rcpt(refused)", r, err, 550)
	r, err = c.Data(ctx, []byte("Subject: by hand\nMessage-ID: <by-hand@go.test>\n\n.dot\nend"))
	check("Data", r, err, 250)
	got := findMessage(t, sinkDir, "by-hand@go.test")
	if want := "Subject: by hand\r\nMessage-ID: <by-hand@go.test>\r\n\r\n.dot\r\nend\r\n"; string(got.Eml) != want {
		t.Fatalf("arrived %q, want %q", got.Eml, want)
	}
	r, err = c.Rset(ctx)
	check("Rset", r, err, 250)
	if lr := c.LastReply(); lr.Code != 250 {
		t.Errorf("LastReply = %v", lr)
	}

	r, err = c.Quit(ctx)
	check("Quit", r, err, 221)
	_, err = c.Noop(ctx)
	wantCode(t, err, smtp.ErrServerDisconnected)

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = c.Noop(ctx)
	wantCode(t, err, smtp.ErrBadState)
	if c.IsConnected() || c.HasExtn("size") || c.Features() != nil {
		t.Fatal("getters on a closed Client")
	}
}

func TestTimeouts(t *testing.T) {
	c, err := smtp.New(smtp.SMTP, smtp.WithTimeoutFor(smtp.TimeoutConnect, 1500*time.Millisecond),
		smtp.WithTimeoutFor(smtp.TimeoutIO, 2*time.Second), smtp.WithTimeoutFor(smtp.TimeoutCall, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, w := range []struct {
		k smtp.TimeoutKind
		d time.Duration
	}{{smtp.TimeoutConnect, 1500 * time.Millisecond}, {smtp.TimeoutIO, 2 * time.Second}, {smtp.TimeoutCall, 3 * time.Second},
		{smtp.TimeoutDataBlock, 3 * time.Minute}, {99, -1}} {
		if got := c.Timeout(w.k); got != w.d {
			t.Errorf("Timeout(%d) = %v, want %v", w.k, got, w.d)
		}
	}
	wantCode(t, c.SetTimeout(smtp.TimeoutKind(99), time.Second), smtp.ErrInvalidArgument)

	// A server that never greets: the timeout fires.
	quiet := scripted(t, func(conn net.Conn) error {
		_, _ = bufio.NewReader(conn).ReadString('\n')
		return nil
	})
	c2, err := smtp.New(smtp.SMTP, smtp.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	start := time.Now()
	_, err = c2.Connect(ctx, quiet)
	wantCode(t, err, smtp.ErrTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestInvalidArguments(t *testing.T) {
	checkHandles(t)
	c := dial(t, sinkAddr)
	_, err := c.Mail(ctx, "a@example.com\r\nRCPT TO:<x@example.com>")
	wantCode(t, err, smtp.ErrInvalidArgument)
	// NUL cannot reach C: refused on the Go side.
	_, err = c.SendMail(ctx, "alice@example.com", []string{"bob@example.com\x00evil"}, []byte("x\r\n"))
	e := wantCode(t, err, smtp.ErrInvalidArgument)
	if !strings.Contains(e.Message, "NUL") {
		t.Errorf("message %q", e.Message)
	}
	_, err = c.Docmd(ctx, "NOOP\x00", "")
	wantCode(t, err, smtp.ErrInvalidArgument)
	_, err = c.SendMail(ctx, "alice@example.com", nil, []byte("x\r\n"))
	wantCode(t, err, smtp.ErrInvalidArgument)
	wantCode(t, c.SetLocalHostname(""), smtp.ErrInvalidArgument)
	wantCode(t, c.SetDebugLevel(-1), smtp.ErrInvalidArgument)
	wantCode(t, c.SetLineEndings(smtp.LineEndings(7)), smtp.ErrInvalidArgument)
	wantCode(t, c.Auth(ctx, "X-TOKEN", nil), smtp.ErrNullArgument)
	wantCode(t, c.SetAuthMechanisms("NO-SUCH-MECH"), smtp.ErrInvalidArgument)
	if err := c.SetAuthMechanisms(); err != nil {
		t.Fatal(err)
	}
	if _, err := smtp.New(smtp.Kind(42)); err == nil {
		t.Fatal("New(42) succeeded")
	} else {
		wantCode(t, err, smtp.ErrInvalidArgument)
	}
	// Nothing was sent: the session is in step.
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
}

func TestRejectBareEOL(t *testing.T) {
	c := dial(t, sinkAddr, smtp.WithLineEndings(smtp.RejectBareEOL))
	_, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, []byte("Subject: x\r\n\r\nbare\nLF\r\n"))
	wantCode(t, err, smtp.ErrInvalidArgument)
	if err := c.SetLineEndings(smtp.Raw); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: raw\r\nMessage-ID: <raw@go.test>\r\n\r\nbare\nLF kept\r\n")
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	if got := findMessage(t, sinkDir, "raw@go.test"); !bytes.Equal(got.Eml, msg) {
		t.Fatalf("arrived %q", got.Eml)
	}
}

func TestSendMessage(t *testing.T) {
	c := dial(t, sinkAddr)
	msg := "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\n" +
		"Bcc: secret@example.com, refuse-bcc@example.com\r\nSubject: send_message\r\n" +
		"Message-ID: <send-message@go.test>\r\n\r\nHello.\r\n"
	refused, err := c.SendMessage(ctx, []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 1 || refused["refuse-bcc@example.com"].Code != 550 {
		t.Fatalf("refused = %v", refused)
	}
	got := findMessage(t, sinkDir, "send-message@go.test")
	want := strings.Replace(msg, "Bcc: secret@example.com, refuse-bcc@example.com\r\n", "", 1)
	if string(got.Eml) != want {
		t.Fatalf("arrived %q\nwant %q", got.Eml, want)
	}
	if got.Meta.MailFrom != "alice@example.com" || !reflect.DeepEqual(got.Meta.RcptTos, []string{"bob@example.com", "secret@example.com"}) {
		t.Fatalf("envelope %+v", got.Meta)
	}

	// The envelope given instead of read.
	msg2 := "From: alice@example.com\r\nTo: bob@example.com\r\nMessage-ID: <send-message-2@go.test>\r\n\r\nx\r\n"
	if _, err := c.SendMessage(ctx, []byte(msg2), smtp.EnvelopeFrom("bounce@example.com"), smtp.EnvelopeTo("carol@example.com")); err != nil {
		t.Fatal(err)
	}
	got = findMessage(t, sinkDir, "send-message-2@go.test")
	if got.Meta.MailFrom != "bounce@example.com" || !reflect.DeepEqual(got.Meta.RcptTos, []string{"carol@example.com"}) {
		t.Fatalf("envelope %+v", got.Meta)
	}
	_, err = c.SendMessage(ctx, []byte("Subject: no recipients\r\n\r\nx\r\n"))
	if err == nil {
		t.Fatal("a message without recipients was sent")
	}
}

func TestMailOptions(t *testing.T) {
	c := dial(t, sinkAddr)
	msg := []byte("Subject: options\r\nMessage-ID: <options@go.test>\r\n\r\nx\r\n")
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg, smtp.MailOptions("BODY=8BITMIME")); err != nil {
		t.Fatal(err)
	}
	findMessage(t, sinkDir, "options@go.test")
	// An option the server does not know.
	_, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg, smtp.MailOptions("X-UNKNOWN=1"))
	wantCode(t, err, smtp.ErrSenderRefused)
	// Structured options: DSN is not offered by this server.
	if err := c.SetEnvelope(&smtp.Envelope{DSNRet: smtp.DSNRetHeaders}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg)
	wantCode(t, err, smtp.ErrNotSupported)
	if err := c.SetEnvelope(nil); err != nil {
		t.Fatal(err)
	}
	prio := 42
	wantCode(t, c.SetEnvelope(&smtp.Envelope{MTPriority: &prio}), smtp.ErrInvalidArgument)
}

func TestRequireTLS(t *testing.T) {
	c := dial(t, sinkAddr, smtp.WithRequireTLS())
	_, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, []byte("x\r\n"))
	wantCode(t, err, smtp.ErrNotEncrypted)
}

func TestLogin(t *testing.T) {
	c := dial(t, authAddr)
	if err := c.Login(ctx, "alice", "s3cret"); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if r := c.LastReply(); r.Code != 235 {
		t.Fatalf("LastReply = %v", r)
	}

	c2 := dial(t, authAddr)
	e := wantCode(t, c2.Login(ctx, "alice", "wrong"), smtp.ErrAuth)
	if e.ReplyCode != 535 {
		t.Fatalf("error %+v", e)
	}
	// Only PLAIN, then only LOGIN.
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		c3 := dial(t, authAddr)
		if err := c3.SetAuthMechanisms(mech); err != nil {
			t.Fatal(err)
		}
		if err := c3.Login(ctx, "jörg", "pässword"); err != nil {
			t.Fatalf("Login with %s: %v", mech, err)
		}
	}
	c4 := dial(t, authAddr)
	if err := c4.AuthBuiltin(ctx, "XOAUTH2", "alice@example.com", "good-token"); err != nil {
		t.Fatalf("AuthBuiltin(XOAUTH2): %v", err)
	}
	c5 := dial(t, authAddr)
	c5.Ehlo(ctx, "") // AuthBuiltin, like Auth, does not send EHLO itself
	if err := c5.AuthBuiltin(ctx, "SCRAM-SHA-256", "user", "pencil"); err != nil {
		t.Fatalf("AuthBuiltin(SCRAM-SHA-256): %v", err)
	}

	// The sink offers no AUTH.
	c6 := dial(t, sinkAddr)
	wantCode(t, c6.Login(ctx, "alice", "s3cret"), smtp.ErrNotSupported)
}

func TestAuthCallback(t *testing.T) {
	checkHandles(t)
	c := dial(t, authAddr)
	if _, err := c.Ehlo(ctx, ""); err != nil {
		t.Fatal(err)
	}
	var challenges []string
	err := c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func(ch []byte) ([]byte, error) {
		challenges = append(challenges, string(ch))
		if n := smtp.LiveHandles(); n != 1 {
			return nil, fmt.Errorf("%d live handles during the call", n)
		}
		return []byte("open sesame"), nil
	}))
	if err != nil {
		t.Fatalf("Auth: %v", err)
	}
	if !reflect.DeepEqual(challenges, []string{"token?"}) {
		t.Fatalf("challenges %q", challenges)
	}
	if r := c.LastReply(); r.Code != 235 {
		t.Fatalf("LastReply = %v", r)
	}

	// (Without EHLO first aiosmtpd answers 503, which smtplib's auth, and
	// so this one, takes for "already authenticated".)
	c2 := dial(t, authAddr)
	c2.Ehlo(ctx, "")
	e := wantCode(t, c2.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) {
		return []byte("wrong"), nil
	})), smtp.ErrAuth)
	if e.ReplyCode != 535 || e.Err != nil {
		t.Fatalf("error %+v", e)
	}
}

// plain is PLAIN as a Mechanism with an initial response.
type plain struct {
	user, pass string
	starts     int
	nexts      [][]byte
}

func (p *plain) Start() ([]byte, bool, error) {
	p.starts++
	return []byte("\x00" + p.user + "\x00" + p.pass), true, nil
}

func (p *plain) Next(ch []byte) ([]byte, error) {
	p.nexts = append(p.nexts, ch)
	return []byte("\x00" + p.user + "\x00" + p.pass), nil
}

func TestAuthInitialResponse(t *testing.T) {
	checkHandles(t)
	c := dial(t, authAddr)
	if _, err := c.Ehlo(ctx, ""); err != nil {
		t.Fatal(err)
	}
	p := &plain{user: "alice", pass: "s3cret"}
	if err := c.Auth(ctx, "PLAIN", p); err != nil {
		t.Fatalf("Auth(PLAIN): %v", err)
	}
	if p.starts != 1 || len(p.nexts) != 0 {
		t.Fatalf("Start called %d times, Next %d", p.starts, len(p.nexts))
	}
	// Without an initial response: an empty challenge, answered by Next.
	c2 := dial(t, authAddr)
	c2.Ehlo(ctx, "")
	p2 := &plain{user: "alice", pass: "s3cret"}
	if err := c2.Auth(ctx, "PLAIN", p2, smtp.NoInitialResponse); err != nil {
		t.Fatalf("Auth(PLAIN, NoInitialResponse): %v", err)
	}
	if p2.starts != 0 || len(p2.nexts) != 1 || len(p2.nexts[0]) != 0 {
		t.Fatalf("Start called %d times, Next with %q", p2.starts, p2.nexts)
	}
}

func TestAuthCallbackPanics(t *testing.T) {
	checkHandles(t)
	c := dial(t, authAddr)
	c.Ehlo(ctx, "")
	err := c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) {
		panic("boom")
	}))
	e := wantCode(t, err, smtp.ErrAuthAborted)
	var p *smtp.CallbackPanic
	if !errors.As(err, &p) || p.Value != "boom" || len(p.Stack) == 0 {
		t.Fatalf("cause %#v", e.Err)
	}
	if !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Error() = %q", err)
	}
	if n := smtp.LiveHandles(); n != 0 {
		t.Fatalf("%d handles alive after the call", n)
	}
	// The exchange was cancelled cleanly: the session is still in step.
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop after the panic = %v, %v", r, err)
	}
	if err := c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) {
		return []byte("open sesame"), nil
	})); err != nil {
		t.Fatalf("Auth after the panic: %v", err)
	}

	// A nil-pointer panic (a runtime error) is recovered the same way.
	c2 := dial(t, authAddr)
	c2.Ehlo(ctx, "")
	err = c2.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) {
		var m map[string]int
		m["x"] = 1
		return nil, nil
	}))
	wantCode(t, err, smtp.ErrAuthAborted)
	if r, err := c2.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
}

var errNoToken = errors.New("no token today")

func TestAuthCallbackError(t *testing.T) {
	checkHandles(t)
	c := dial(t, authAddr)
	c.Ehlo(ctx, "")
	err := c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) { return nil, errNoToken }))
	wantCode(t, err, smtp.ErrAuthAborted)
	if !errors.Is(err, errNoToken) {
		t.Fatalf("errors.Is(err, errNoToken) is false: %v", err)
	}
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
}

// A response larger than the library's first buffer (1 KiB): it asks
// again with a larger one, and the Go function is called once. aiosmtpd
// takes no line that long, so a scripted server checks what arrives.
func TestAuthLargeResponse(t *testing.T) {
	checkHandles(t)
	big := bytes.Repeat([]byte("0123456789"), 1000)
	addr := scripted(t, func(conn net.Conn) error {
		r := bufio.NewReader(conn)
		w := func(s string) error { _, err := conn.Write([]byte(s)); return err }
		w("220 auth.test\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return nil
			}
			switch strings.TrimSpace(line) {
			case "AUTH X-BIG":
				w("334 " + base64.StdEncoding.EncodeToString([]byte("size?")) + "\r\n")
				answer, err := r.ReadString('\n')
				if err != nil {
					return err
				}
				got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(answer))
				if err != nil || !bytes.Equal(got, big) {
					w("535 wrong\r\n")
					return fmt.Errorf("got %d bytes (%v), want the %d sent", len(got), err, len(big))
				}
				w("235 ok\r\n")
			case "QUIT":
				return w("221 bye\r\n")
			default:
				w("250 ok\r\n")
			}
		}
	})
	c := dial(t, addr)
	calls := 0
	err := c.Auth(ctx, "X-BIG", smtp.MechanismFunc(func(ch []byte) ([]byte, error) {
		calls++
		if string(ch) != "size?" {
			return nil, fmt.Errorf("challenge %q", ch)
		}
		return big, nil
	}))
	if err != nil {
		t.Fatalf("Auth: %v", err)
	}
	if calls != 1 {
		t.Fatalf("callback called %d times", calls)
	}
	c.Quit(ctx)
}

// A callback calling its own Client gets ErrBadState instead of a deadlock.
func TestCallbackReentrancy(t *testing.T) {
	checkHandles(t)
	c := dial(t, authAddr)
	c.Ehlo(ctx, "")
	done := make(chan error, 1)
	var inner error
	go func() {
		done <- c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) {
			_, inner = c.Noop(ctx)
			c.Close() // refused too, not a deadlock
			return []byte("open sesame"), nil
		}))
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Auth: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("deadlock: a call from inside the callback blocked")
	}
	wantCode(t, inner, smtp.ErrBadState)
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
}

func TestTrace(t *testing.T) {
	checkHandles(t)
	var lines []string
	dirs := map[smtp.TraceDirection]int{}
	c := dial(t, sinkAddr, smtp.WithDebugLevel(1), smtp.WithTrace(func(d smtp.TraceDirection, line string) {
		dirs[d]++
		lines = append(lines, line)
	}))
	if n := smtp.LiveHandles(); n != 1 {
		t.Fatalf("%d handles with one trace function", n)
	}
	c.Noop(ctx)
	joined := strings.Join(lines, "\n")
	if !strings.Contains(strings.ToLower(joined), "noop") || dirs[smtp.TraceSend] == 0 || dirs[smtp.TraceRecv] == 0 {
		t.Fatalf("trace %v:\n%s", dirs, joined)
	}
	// A trace function that panics or calls the Client does no harm.
	var inner error
	if err := c.SetTrace(func(smtp.TraceDirection, string) {
		_, inner = c.Noop(ctx)
		panic("trace boom")
	}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
	wantCode(t, inner, smtp.ErrBadState)
	if n := smtp.LiveHandles(); n != 1 {
		t.Fatalf("%d handles after replacing the trace function", n)
	}
	if err := c.SetTrace(nil); err != nil {
		t.Fatal(err)
	}
	if n := smtp.LiveHandles(); n != 0 {
		t.Fatalf("%d handles after removing the trace function", n)
	}
	c.SetTrace(func(smtp.TraceDirection, string) {})
	c.Close()
}

// A Client that is never closed is freed by its finalizer, trace handle
// included.
func TestFinalizer(t *testing.T) {
	func() {
		c, err := smtp.Dial(ctx, sinkAddr, smtp.WithTrace(func(smtp.TraceDirection, string) {}))
		if err != nil {
			t.Fatal(err)
		}
		c.Noop(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for smtp.LiveHandles() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d handles alive: the finalizer did not run", smtp.LiveHandles())
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// Against the runner's lmtp server (servers.json: scripted.py's mini LMTP):
// one reply per accepted recipient after the data, 452 for late-fail*,
// 550 at RCPT for refuse*.
func TestLMTP(t *testing.T) {
	c := dial(t, lmtpAddr, smtp.WithKind(smtp.LMTP))
	if c.Kind() != smtp.LMTP {
		t.Fatalf("Kind() = %v", c.Kind())
	}
	to := []string{"a@example.com", "late-fail@example.com", "refuse@example.com"}
	refused, err := c.SendMail(ctx, "alice@example.com", to, []byte("Subject: lmtp\r\n\r\nx\r\n"))
	if err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	if len(refused) != 2 || refused["late-fail@example.com"].Code != 452 || refused["refuse@example.com"].Code != 550 {
		t.Fatalf("refused = %v", refused)
	}
	rs := c.Recipients()
	if len(rs) != 3 || rs[0].Refused || rs[0].DataReply.Code != 250 || rs[0].DataStatus != "2.0.0" ||
		!rs[1].Refused || rs[1].DataReply.Code != 452 || rs[1].DataStatus != "4.2.2" ||
		rs[2].Status != "5.1.1" || rs[2].DataReply.Code != 0 {
		t.Fatalf("Recipients() = %+v", rs)
	}
	// The reply that decided each fate: after the data for those accepted
	// at RCPT, else the RCPT reply.
	if rs[0].Final != rs[0].DataReply || rs[1].Final != rs[1].DataReply || rs[1].FinalStatus != "4.2.2" ||
		rs[2].Final != rs[2].Reply || rs[2].FinalStatus != "5.1.1" {
		t.Fatalf("Final replies: %+v", rs)
	}
	if r, err := c.Quit(ctx); err != nil || r.Code != 221 {
		t.Fatalf("Quit = %v, %v", r, err)
	}

	// Every recipient refused after the data: ErrData, the map in the error.
	c2 := dial(t, lmtpAddr, smtp.WithKind(smtp.LMTP))
	late := []string{"late-fail-1@example.com", "late-fail-2@example.com"}
	refused, err = c2.SendMail(ctx, "alice@example.com", late, []byte("x\r\n"))
	e := wantCode(t, err, smtp.ErrData)
	if len(e.Refused) != 2 || e.Refused["late-fail-1@example.com"].Code != 452 || len(refused) != 2 {
		t.Fatalf("refused %v, error %+v", refused, e)
	}

	// LMTP over a Unix-domain socket: an address starting with "/".
	sock := filepath.Join(lmtpDir, "lmtp.sock")
	c3 := dial(t, sock, smtp.WithKind(smtp.LMTP))
	if refused, err := c3.SendMail(ctx, "alice@example.com", to[:1], []byte("x\r\n")); err != nil || len(refused) != 0 {
		t.Fatalf("SendMail over a Unix socket = %v, %v", refused, err)
	}
}

// A 421 during RCPT: ErrRecipientsRefused and the connection closed
// (smtplib's SMTPRecipientsRefused after a 421).
func TestRecipients421(t *testing.T) {
	addr := scripted(t, func(conn net.Conn) error {
		r := bufio.NewReader(conn)
		conn.Write([]byte("220 closing soon\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return nil
			}
			if strings.HasPrefix(strings.ToUpper(line), "RCPT") {
				conn.Write([]byte("421 4.3.2 shutting down\r\n"))
				return nil
			}
			conn.Write([]byte("250 ok\r\n"))
		}
	})
	c := dial(t, addr)
	refused, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "carol@example.com"}, []byte("x\r\n"))
	e := wantCode(t, err, smtp.ErrRecipientsRefused)
	if e.ReplyCode != 421 || refused["bob@example.com"].Code != 421 {
		t.Fatalf("refused %v, error %+v", refused, e)
	}
	if c.IsConnected() {
		t.Fatal("still connected after 421")
	}
}

func TestSourceAddress(t *testing.T) {
	c := dial(t, sinkAddr, smtp.WithSourceAddress("127.0.0.1", 0))
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
	// An address that is not this machine's cannot be bound.
	_, err := smtp.Dial(ctx, sinkAddr, smtp.WithSourceAddress("192.0.2.1", 0))
	wantCode(t, err, smtp.ErrConnect)
}

// While a callback runs, another goroutine's call on the Client waits for
// the Auth call to end (only a call from inside the callback is refused).
func TestCallbackOtherGoroutineWaits(t *testing.T) {
	checkHandles(t)
	c := dial(t, authAddr)
	c.Ehlo(ctx, "")
	var other error
	otherDone := make(chan struct{})
	err := c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func([]byte) ([]byte, error) {
		go func() {
			_, other = c.Noop(ctx)
			close(otherDone)
		}()
		select {
		case <-otherDone:
			return nil, fmt.Errorf("a Noop from another goroutine ran during the callback: %v", other)
		case <-time.After(200 * time.Millisecond):
		}
		return []byte("open sesame"), nil
	}))
	if err != nil {
		t.Fatalf("Auth: %v", err)
	}
	<-otherDone
	if other != nil {
		t.Fatalf("the other goroutine's Noop: %v", other)
	}
}

func TestConcurrentClients(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := smtp.Dial(ctx, sinkAddr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			msg := fmt.Sprintf("Subject: %d\r\nMessage-ID: <concurrent-%d@go.test>\r\n\r\nx\r\n", i, i)
			if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, []byte(msg)); err != nil {
				errs <- err
			}
		}(i)
	}
	// One Client shared by goroutines: serialised by its mutex.
	shared := dial(t, sinkAddr)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if r, err := shared.Noop(ctx); err != nil || r.Code != 250 {
					errs <- fmt.Errorf("shared Noop = %v, %v", r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := 0; i < 4; i++ {
		findMessage(t, sinkDir, fmt.Sprintf("concurrent-%d@go.test", i))
	}
}

// A non-ASCII recipient without SMTPUTF8 is ErrInvalidArgument before
// anything is sent (smtp.h: every address is checked first), so the next
// SendMail starts cleanly.
func TestSendMailNonASCIIRecipient(t *testing.T) {
	c := dial(t, sinkAddr)
	_, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "bøb@example.com"}, []byte("x\r\n"))
	wantCode(t, err, smtp.ErrInvalidArgument)
	_, err = c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, []byte("x\r\n"))
	if err != nil {
		t.Fatalf("SendMail after the refusal: %v", err)
	}
	// With SMTPUTF8 (the sink offers it) the address goes.
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bøb@example.com"}, []byte("x\r\n"), smtp.MailOptions("SMTPUTF8")); err != nil {
		t.Fatalf("SendMail with SMTPUTF8: %v", err)
	}
}
