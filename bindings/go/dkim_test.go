package smtp_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// The test keys, made by OpenSSL (tests/compose/keys/README.md), and the
// verifier: dkimpy in build/venv, given the key's record instead of DNS
// (tests/compose/dkim_verify.py). Paths from bindings/go, where go test
// runs.
const repoRoot = "../.."

func dkimKey(t *testing.T, name string) (pem []byte, record string) {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(repoRoot, "tests/compose/keys", name+".pem"))
	must(t, err)
	txt, err := os.ReadFile(filepath.Join(repoRoot, "tests/compose/keys", name+".txt"))
	must(t, err)
	return pem, strings.TrimSpace(string(txt))
}

func newDKIM(t *testing.T, key string) *smtp.DKIM {
	t.Helper()
	pem, _ := dkimKey(t, key)
	d, err := smtp.NewDKIM(pem, "example.com", "sel")
	must(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// dkimVerifies is dkimpy's verdict on eml with the public record of key.
func dkimVerifies(t *testing.T, eml []byte, key string) bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.eml")
	must(t, os.WriteFile(path, eml, 0o600))
	out, err := exec.Command(filepath.Join(repoRoot, "build/venv/bin/python"),
		filepath.Join(repoRoot, "tests/compose/dkim_verify.py"), path,
		filepath.Join(repoRoot, "tests/compose/keys", key+".txt")).CombinedOutput()
	said := strings.TrimSpace(string(out))
	if (err == nil) != (said == "pass") {
		t.Fatalf("dkim_verify.py: %v: %s", err, out)
	}
	return err == nil
}

// tampered replaces the first from in eml with to.
func tampered(t *testing.T, eml []byte, from, to string) []byte {
	t.Helper()
	if !bytes.Contains(eml, []byte(from)) {
		t.Fatalf("%q is not in the message", from)
	}
	return bytes.Replace(eml, []byte(from), []byte(to), 1)
}

// The records match OpenSSL's (the key files' .txt).
func TestDKIMDNSRecord(t *testing.T) {
	for _, key := range []string{"rsa2048", "ed25519"} {
		_, want := dkimKey(t, key)
		got, err := newDKIM(t, key).DNSRecord()
		must(t, err)
		if got != want {
			t.Errorf("%s: %q, OpenSSL's %q", key, got, want)
		}
	}
}

// Built messages signed with either algorithm and canonicalization arrive
// through aiosmtpd and verify with dkimpy; a changed body or Subject does
// not verify.
func TestDKIMComposedVerifies(t *testing.T) {
	checkHandles(t)
	c := dial(t, sinkAddr)
	for _, key := range []string{"rsa2048", "ed25519"} {
		for _, canon := range []smtp.Canonicalization{smtp.DKIMRelaxed, smtp.DKIMSimple} {
			name := fmt.Sprintf("%s-%d", key, canon)
			d := newDKIM(t, key)
			must(t, d.SetCanonicalization(canon, canon))
			id := fmt.Sprintf("dkim-%s-%d@go.test", name, time.Now().UnixNano())
			// With a file and a reader (an io.Seeker): signing reads each twice.
			m, _ := fullMessage(t, id)
			must(t, m.SetDKIM(d))
			_, err := c.SendComposed(ctx, m)
			must(t, err)
			eml := findMessage(t, sinkDir, id).Eml
			if !bytes.HasPrefix(eml, []byte("DKIM-Signature: v=1; a=")) {
				t.Fatalf("%s: %.80q", name, eml)
			}
			if !dkimVerifies(t, eml, key) {
				t.Fatalf("%s: the signature does not verify", name)
			}
			if dkimVerifies(t, tampered(t, eml, "Hello Bob", "Hello Rob"), key) {
				t.Fatalf("%s: verifies with a changed body", name)
			}
			if dkimVerifies(t, tampered(t, eml, "Subject: ", "Subject: Re: "), key) {
				t.Fatalf("%s: verifies with a changed Subject", name)
			}
		}
	}
}

// A raw message signed with Sign, sent by SendMessage with LF line ends
// (normalized on the way, as Sign assumes), verifies; changed, it does not.
func TestDKIMRawVerifies(t *testing.T) {
	c := dial(t, sinkAddr)
	for _, key := range []string{"rsa2048", "ed25519"} {
		d := newDKIM(t, key)
		id := fmt.Sprintf("raw-%s-%d@go.test", key, time.Now().UnixNano())
		raw := []byte("From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: raw\nMessage-ID: <" + id +
			">\n\nLF line ends,\nnormalized when sent.\n")
		field, err := d.Sign(raw)
		must(t, err)
		if !strings.HasPrefix(field, "DKIM-Signature: ") || !strings.HasSuffix(field, "\r\n") {
			t.Fatalf("field %q", field)
		}
		_, err = c.SendMessage(ctx, append([]byte(field), raw...))
		must(t, err)
		eml := findMessage(t, sinkDir, id).Eml
		if !dkimVerifies(t, eml, key) {
			t.Fatalf("%s: the signature does not verify", key)
		}
		if dkimVerifies(t, tampered(t, eml, "normalized", "normalised"), key) {
			t.Fatalf("%s: verifies with a changed body", key)
		}
	}
}

// SetHeaders chooses h=; the message verifies with it.
func TestDKIMHeaders(t *testing.T) {
	d := newDKIM(t, "ed25519")
	must(t, d.SetHeaders("Subject", "X-Go-Test"))
	m := newMessage(t)
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.AddTo("bob@example.com"))
	must(t, m.SetSubject("headers"))
	must(t, m.AddHeader("X-Go-Test", "signed"))
	must(t, m.SetText("body"))
	must(t, m.SetDKIM(d))
	eml, err := m.Bytes()
	must(t, err)
	unfolded := regexp.MustCompile(`\r\n[ \t]+`).ReplaceAll(eml, []byte(" "))
	h := regexp.MustCompile(`(?i)\bh=([^;]*)`).FindSubmatch(unfolded)
	if h == nil {
		t.Fatalf("no h= tag in %.200q", eml)
	}
	tags := strings.ToLower(strings.Join(strings.Fields(string(h[1])), ""))
	if !strings.Contains(tags, "from") || !strings.Contains(tags, "subject") || !strings.Contains(tags, "x-go-test") ||
		strings.Contains(tags, "to:") || strings.HasSuffix(tags, ":to") {
		t.Fatalf("h=%s", tags)
	}
	if !dkimVerifies(t, eml, "ed25519") {
		t.Fatal("does not verify")
	}
	// No names: the default list again, which signs To.
	must(t, d.SetHeaders())
	must(t, m.SetDKIM(d))
	// The message keeps its Date and Message-ID, but is signed anew.
	eml2, err := m.Bytes()
	must(t, err)
	if bytes.Equal(eml, eml2) || !dkimVerifies(t, eml2, "ed25519") {
		t.Fatal("the default header list did not apply")
	}
	// nil stops signing.
	must(t, m.SetDKIM(nil))
	eml3, err := m.Bytes()
	must(t, err)
	if bytes.Contains(eml3, []byte("DKIM-Signature")) {
		t.Fatal("still signed")
	}
}

// Bad keys and settings get clear codes; no message contains the key; a
// reader that cannot rewind cannot be signed; a closed signer is
// ErrBadState.
func TestDKIMArguments(t *testing.T) {
	checkHandles(t)
	pem, _ := dkimKey(t, "rsa2048")
	_, err := smtp.NewDKIM([]byte("-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGtleSBtYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"),
		"example.com", "sel")
	if e := wantCode(t, err, smtp.ErrInvalidArgument); strings.Contains(e.Message, "c2VjcmV0") {
		t.Fatalf("the key is in the message: %q", e.Message)
	}
	_, err = smtp.NewDKIM(nil, "example.com", "sel")
	if err == nil {
		t.Fatal("no key accepted")
	}
	_, err = smtp.NewDKIM(pem, "example.com", "s\r\nel")
	wantCode(t, err, smtp.ErrInvalidArgument)
	_, err = smtp.NewDKIM(pem, "exa\x00mple.com", "sel")
	wantCode(t, err, smtp.ErrInvalidArgument)

	d := newDKIM(t, "rsa2048")
	wantCode(t, d.SetCanonicalization(smtp.DKIMRelaxed, 7), smtp.ErrInvalidArgument)
	wantCode(t, d.SetHeaders("Sub\nject"), smtp.ErrInvalidArgument)

	m := newMessage(t)
	must(t, m.SetFrom("alice@example.com"))
	must(t, m.AttachReader(onlyReader{strings.NewReader("once")}, "once.txt", ""))
	must(t, m.SetDKIM(d))
	_, err = m.Bytes()
	wantCode(t, err, smtp.ErrInvalidArgument)

	must(t, d.Close())
	must(t, d.Close())
	wantCode(t, m.SetDKIM(d), smtp.ErrBadState)
	_, err = d.Sign([]byte("From: a@example.com\r\n\r\nx\r\n"))
	wantCode(t, err, smtp.ErrBadState)
	_, err = d.DNSRecord()
	wantCode(t, err, smtp.ErrBadState)
}
