package smtp_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// testCA builds a TLSConfig trusting only the trustme CA of the test servers.
func testCA(t *testing.T) *smtp.TLSConfig {
	t.Helper()
	b := smtp.NewTLSConfigBuilder()
	defer b.Close()
	if err := b.AddCAFile(tlsCAFile); err != nil {
		t.Fatal(err)
	}
	if err := b.SetDefaultRoots(false); err != nil {
		t.Fatal(err)
	}
	cfg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cfg.Close() })
	return cfg
}

func TestStartTLS(t *testing.T) {
	cfg := testCA(t)
	c := dial(t, starttlsAddr, smtp.WithTLSConfig(cfg), smtp.WithRequireTLS())
	if !c.HasExtn("starttls") {
		if _, err := c.Ehlo(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	if c.IsEncrypted() || c.TLSVersion() != "" {
		t.Fatal("encrypted before STARTTLS")
	}
	r, err := c.StartTLS(ctx, nil)
	if err != nil || r.Code != 220 {
		t.Fatalf("StartTLS = %v, %v", r, err)
	}
	if !c.IsEncrypted() || !strings.HasPrefix(c.TLSVersion(), "TLSv1.") || c.TLSCipher() == "" {
		t.Fatalf("after STARTTLS: encrypted %v, %q %q", c.IsEncrypted(), c.TLSVersion(), c.TLSCipher())
	}
	if c.DoesESMTP() {
		t.Fatal("EHLO state kept across STARTTLS")
	}
	msg := []byte("From: alice@example.com\r\nTo: bob@example.com\r\nMessage-ID: <starttls@go.test>\r\n\r\nOnly the server can read this.\r\n")
	refused, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg)
	if err != nil || len(refused) != 0 {
		t.Fatalf("SendMail = %v, %v", refused, err)
	}
	if got := findMessage(t, starttlsDir, "starttls@go.test"); !bytes.Equal(got.Eml, msg) {
		t.Fatalf("arrived %q", got.Eml)
	}
	c.Quit(ctx)
}

func TestStartTLSConfigArgument(t *testing.T) {
	cfg := testCA(t)
	c := dial(t, starttlsAddr)
	if _, err := c.StartTLS(ctx, cfg); err != nil {
		t.Fatalf("StartTLS(cfg): %v", err)
	}
	if !c.IsEncrypted() {
		t.Fatal("not encrypted")
	}
}

func TestStartTLSUnknownCA(t *testing.T) {
	// The default roots do not know the trustme CA.
	c := dial(t, starttlsAddr)
	_, err := c.StartTLS(ctx, nil)
	e := wantCode(t, err, smtp.ErrTLS)
	if e.Message == "" {
		t.Fatal("no message")
	}
	t.Logf("handshake refused: %v", err)
	if c.IsConnected() {
		t.Fatal("still connected after a failed handshake")
	}
}

func TestImplicitTLS(t *testing.T) {
	cfg := testCA(t)
	c := dial(t, implicitAddr, smtp.WithKind(smtp.SMTPSSL), smtp.WithTLSConfig(cfg))
	// The session holds its own reference: the config may go.
	cfg.Close()
	if !c.IsEncrypted() {
		t.Fatal("SMTPSSL session not encrypted")
	}
	msg := []byte("Subject: implicit\r\nMessage-ID: <implicit@go.test>\r\n\r\nx\r\n")
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	findMessage(t, implicitDir, "implicit@go.test")

	// Without the CA.
	_, err := smtp.Dial(ctx, implicitAddr, smtp.WithKind(smtp.SMTPSSL))
	wantCode(t, err, smtp.ErrTLS)
}

func TestTLSBuilderErrors(t *testing.T) {
	b := smtp.NewTLSConfigBuilder()
	e := wantCode(t, b.AddCAFile(filepath.Join(t.TempDir(), "no-such-ca.pem")), smtp.ErrTLS)
	if e.Message == "" || e.Message == "no error" {
		t.Fatalf("message %q", e.Message)
	}
	wantCode(t, b.SetServerName("not a name!"), smtp.ErrInvalidArgument)
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("not a certificate\n"), 0o600)
	wantCode(t, b.SetClientCert(empty, empty), smtp.ErrTLS)
	if err := b.SetDefaultRoots(false); err != nil {
		t.Fatal(err)
	}
	_, err := b.Build() // no trust anchor at all
	wantCode(t, err, smtp.ErrTLS)
	b.Close()
	b.Close()
	wantCode(t, b.AddCAFile(tlsCAFile), smtp.ErrBadState)

	cfg := testCA(t)
	cfg.Close()
	c := dial(t, starttlsAddr)
	_, err = c.StartTLS(ctx, cfg)
	wantCode(t, err, smtp.ErrBadState)
	wantCode(t, c.SetTLSConfig(cfg), smtp.ErrBadState)
}

func TestDangerousDisableVerification(t *testing.T) {
	b := smtp.NewTLSConfigBuilder()
	defer b.Close()
	if err := b.DangerousDisableVerification(); err != nil {
		t.Fatal(err)
	}
	cfg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	c := dial(t, implicitAddr, smtp.WithKind(smtp.SMTPSSL), smtp.WithTLSConfig(cfg))
	if !c.IsEncrypted() {
		t.Fatal("not encrypted")
	}
}
