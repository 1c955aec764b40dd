package smtp_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func TestVersionNumber(t *testing.T) {
	v := smtp.VersionNumber()
	if got := fmt.Sprintf("%d.%d.%d", v>>16, v>>8&0xff, v&0xff); got != smtp.Version() {
		t.Fatalf("VersionNumber() = %#x (%s), Version() = %s", v, got, smtp.Version())
	}
}

// script plays a dialogue: the greeting, then for each pair the verb the
// client must send next and the reply to it.
func script(conn net.Conn, greeting string, steps ...string) error {
	br := bufio.NewReader(conn)
	if _, err := fmt.Fprintf(conn, "%s\r\n", greeting); err != nil {
		return err
	}
	for i := 0; i+1 < len(steps); i += 2 {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(strings.ToUpper(line), steps[i]) {
			return fmt.Errorf("got %q, want %s", line, steps[i])
		}
		if _, err := fmt.Fprintf(conn, "%s\r\n", steps[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func TestCodeException(t *testing.T) {
	for code, want := range map[smtp.Code]string{
		smtp.ErrSenderRefused:     "SMTPSenderRefused",
		smtp.ErrRecipientsRefused: "SMTPRecipientsRefused",
		smtp.ErrConnect:           "OSError",
		smtp.ErrInvalidArgument:   "ValueError",
		smtp.Code(0):              "",
	} {
		if got := code.Exception(); got != want {
			t.Errorf("%v.Exception() = %q, want %q", code, got, want)
		}
	}
}

// Sender: the sender given, or the one send_message found; a refused
// sender is in Error.Sender.
func TestSender(t *testing.T) {
	c := dial(t, sinkAddr)
	if s := c.Sender(); s != "" {
		t.Fatalf("Sender() = %q before any transaction", s)
	}
	msg := []byte("From: Carol <carol@example.com>\r\nTo: bob@example.com\r\nMessage-ID: <sender@go.test>\r\n\r\nx\r\n")
	if _, err := c.SendMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if s := c.Sender(); s != "carol@example.com" {
		t.Fatalf("Sender() = %q after send_message", s)
	}
	// A scripted server that refuses every sender.
	addr := scripted(t, func(conn net.Conn) error {
		return script(conn, "220 x", "EHLO", "250 x", "MAIL", "553 5.7.1 sender refused", "RSET", "250 ok", "QUIT", "221 bye")
	})
	c2 := dial(t, addr)
	_, err := c2.SendMessage(ctx, msg)
	e := wantCode(t, err, smtp.ErrSenderRefused)
	if e.Sender != "carol@example.com" || e.ReplyCode != 553 {
		t.Fatalf("error %+v", e)
	}
	c2.Quit(ctx)
}

// Recipients: one record each, with the reply that decided the fate.
func TestRecipientsFinal(t *testing.T) {
	c := dial(t, sinkAddr)
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "refuse@example.com"},
		[]byte("Subject: final\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	rs := c.Recipients()
	if len(rs) != 2 {
		t.Fatalf("Recipients() = %+v", rs)
	}
	// The sink offers no ENHANCEDSTATUSCODES: no status.
	if rs[0].Final != rs[0].Reply || rs[0].Final.Code != 250 || rs[0].Refused || rs[0].FinalStatus != rs[0].Status {
		t.Errorf("bob: %+v", rs[0])
	}
	if rs[1].Final.Code != 550 || !rs[1].Refused || rs[1].FinalStatus != rs[1].Status || rs[1].Final != rs[1].Reply {
		t.Errorf("refuse: %+v", rs[1])
	}
}

// UTF8Commands follows SMTPUTF8 on MAIL until RSET (smtplib's
// command_encoding).
func TestUTF8Commands(t *testing.T) {
	c := dial(t, sinkAddr)
	c.Ehlo(ctx, "")
	if c.UTF8Commands() {
		t.Fatal("UTF-8 before MAIL")
	}
	if !c.HasExtn("smtputf8") {
		t.Skip("the sink does not offer SMTPUTF8")
	}
	if _, err := c.Mail(ctx, "alice@example.com", "SMTPUTF8"); err != nil {
		t.Fatal(err)
	}
	if !c.UTF8Commands() {
		t.Fatal("not UTF-8 after MAIL with SMTPUTF8")
	}
	c.Rset(ctx)
	if c.UTF8Commands() {
		t.Fatal("UTF-8 after RSET")
	}
}

// The structured envelope reaches the server as DSN parameters (the dsn
// sink keeps each MAIL and RCPT argument as sent).
func TestEnvelopeDSN(t *testing.T) {
	c := dial(t, dsnAddr, smtp.WithEnvelope(&smtp.Envelope{
		DSNRet:    smtp.DSNRetHeaders,
		DSNEnvID:  "env-go-1",
		DSNNotify: smtp.NotifyFailure | smtp.NotifyDelay,
		Recipients: map[string]smtp.RcptDSN{
			"carol@example.com": {Notify: smtp.NotifySuccess, ORCPT: "orig@example.com"},
		},
	}))
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "carol@example.com"},
		[]byte("Message-ID: <dsn-env@go.test>\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	got := findMessage(t, dsnDir, "dsn-env@go.test")
	names, _ := filepath.Glob(filepath.Join(dsnDir, "*.json"))
	var raw []string
	for _, n := range names {
		b, _ := os.ReadFile(n)
		var m struct{ Raw []string }
		if json.Unmarshal(b, &m) == nil && strings.Contains(string(b), "env-go-1") {
			raw = m.Raw
		}
	}
	all := strings.Join(raw, "\n")
	for _, want := range []string{"RET=HDRS", "ENVID=env-go-1", "NOTIFY=FAILURE,DELAY", "NOTIFY=SUCCESS",
		"ORCPT=rfc822;orig@example.com"} {
		if !strings.Contains(all, want) {
			t.Errorf("%s not sent: %q (message %d bytes)", want, raw, len(got.Eml))
		}
	}
	// Not offered by the plain sink: refused before MAIL.
	c2 := dial(t, sinkAddr, smtp.WithEnvelope(&smtp.Envelope{DSNRet: smtp.DSNRetFull}))
	_, err := c2.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, []byte("x\r\n"))
	wantCode(t, err, smtp.ErrNotSupported)
	// A bad option names itself (smtp_envelope_errmsg).
	e := wantCode(t, c2.SetEnvelope(&smtp.Envelope{DSNEnvID: strings.Repeat("x", 101)}), smtp.ErrInvalidArgument)
	if !strings.Contains(e.Message, "ENVID") {
		t.Errorf("message %q", e.Message)
	}
}

// SetRoots: the trust stores beside the added CAs.
func TestTLSRoots(t *testing.T) {
	b := smtp.NewTLSConfigBuilder()
	defer b.Close()
	if _, err := b.SetRoots(0); err != nil {
		t.Fatal(err)
	}
	// No store and no CA added: nothing to trust.
	_, err := b.Build()
	wantCode(t, err, smtp.ErrTLS)
	_, err = b.SetRoots(1 << 7)
	wantCode(t, err, smtp.ErrInvalidArgument)
	info, err := b.SetRoots(smtp.RootsMozilla | smtp.RootsSystem)
	if err != nil {
		// A machine without a system store: the library says so.
		wantCode(t, err, smtp.ErrTLS)
		t.Logf("no system store: %v", err)
	} else if info == "" {
		t.Error("SetRoots(RootsSystem) says nothing about what it loaded")
	} else {
		t.Logf("system store: %s", info)
	}
	if _, err := b.SetRoots(smtp.RootsMozilla); err != nil {
		t.Fatal(err)
	}
	cfg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Close()
}
