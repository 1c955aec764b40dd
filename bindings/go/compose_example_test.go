package smtp_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func ExampleNewMessage() {
	ctx := context.Background()
	m := smtp.NewMessage()
	defer m.Close()
	// Each setter returns an error (ErrInvalidArgument for a bad address,
	// CR or LF in a field...); check them, or check the send's.
	if err := m.SetFrom("Alice <alice@example.com>"); err != nil {
		log.Fatal(err)
	}
	m.AddTo("Bob <bob@example.com>")
	m.AddBcc("archive@example.com") // envelope only
	m.SetSubject("Grüße")
	m.SetText("Hello Bob,\nthe report is attached.\n")
	m.SetHTML(`<p>Hello <b>Bob</b>, <img src="cid:logo"></p>`)
	m.AddInline([]byte("\x89PNG..."), "logo", "image/png")
	m.Attach([]byte("a,b\n1,2\n"), "numbers.csv", "")
	// Read while the message is sent; an io.Seeker can be read again.
	m.AttachReader(strings.NewReader("streamed"), "notes.txt", "")

	c, err := smtp.Dial(ctx, sinkAddr) // "mail.example.com:25"
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	refused, err := c.SendComposed(ctx, m) // From, To, Cc and Bcc make the envelope
	fmt.Println(len(refused), err)
	// Output: 0 <nil>
}

func ExampleNewDKIM() {
	pem, err := os.ReadFile(filepath.Join(repoRoot, "tests/compose/keys/ed25519.pem"))
	if err != nil {
		log.Fatal(err)
	}
	d, err := smtp.NewDKIM(pem, "example.com", "sel")
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	record, _ := d.DNSRecord() // publish at sel._domainkey.example.com
	fmt.Println(record[:19])

	// A built message: every write and send is signed.
	m := smtp.NewMessage()
	defer m.Close()
	m.SetFrom("alice@example.com")
	m.SetText("signed")
	if err := m.SetDKIM(d); err != nil {
		log.Fatal(err)
	}
	eml, _ := m.Bytes()
	fmt.Println(strings.HasPrefix(string(eml), "DKIM-Signature:"))

	// A raw message: put the field before it, and send it unchanged.
	raw := []byte("From: alice@example.com\r\nSubject: raw\r\n\r\nsigned\r\n")
	field, _ := d.Sign(raw)
	signed := append([]byte(field), raw...)
	fmt.Println(len(signed) > len(raw))
	// Output:
	// v=DKIM1; k=ed25519;
	// true
	// true
}
