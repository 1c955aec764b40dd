package smtp

// DKIM: a DKIM signer (smtp_dkim_*), for Message.SetDKIM and for raw
// messages (Sign).

/*
#include <stdint.h>
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Canonicalization is a DKIM canonicalization algorithm (RFC 6376 3.4),
// for DKIM.SetCanonicalization.
type Canonicalization int

const (
	// DKIMSimple tolerates no change (RFC 6376 3.4.1, 3.4.3).
	DKIMSimple Canonicalization = 1
	// DKIMRelaxed tolerates refolded header fields and changed
	// whitespace (RFC 6376 3.4.2, 3.4.4): the default for both.
	DKIMRelaxed Canonicalization = 2
)

// DKIM signs messages (RFC 6376): rsa-sha256 with an RSA key of 2048 to
// 8192 bits, ed25519-sha256 (RFC 8463) with an Ed25519 key, the algorithm
// following the key. Make it with NewDKIM; by default it signs RFC 6376
// 5.4.1's header fields (plus Message-ID and the MIME fields), relaxed /
// relaxed. Close frees it (a finalizer does if it is forgotten); its key
// is wiped then. Its methods are serialised by a mutex; a Message given
// it (SetDKIM) keeps its own copy of the settings.
type DKIM struct {
	mu sync.Mutex
	d  *C.smtp_dkim
}

// NewDKIM makes a signer of the unencrypted PEM private key keyPEM
// ("BEGIN RSA PRIVATE KEY", PKCS#1, or "BEGIN PRIVATE KEY", PKCS#8 RSA or
// Ed25519) for the signing domain (d=; an IDN is signed as A-labels) and
// selector (s=: the public key is published at
// selector._domainkey.domain, see DNSRecord). A key of another kind, or
// RSA under 2048 bits, is ErrInvalidArgument; no error message contains
// the key. keyPEM is not kept: wipe it when it suits you.
func NewDKIM(keyPEM []byte, domain, selector string) (*DKIM, error) {
	d := &DKIM{d: C.smtp_dkim_new()}
	runtime.SetFinalizer(d, (*DKIM).Close)
	err := d.check("dkim_set_key_pem", C.smtp_dkim_set_key_pem(d.d, bytesPtr(keyPEM), C.size_t(len(keyPEM))))
	if err == nil {
		err = d.withString("dkim_set_domain", "domain", domain, func(s *C.char) C.int {
			return C.smtp_dkim_set_domain(d.d, s)
		})
	}
	if err == nil {
		err = d.withString("dkim_set_selector", "selector", selector, func(s *C.char) C.int {
			return C.smtp_dkim_set_selector(d.d, s)
		})
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close frees the signer, wiping its key; messages given it keep their
// copy. It is idempotent; the other methods then return ErrBadState.
func (d *DKIM) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.smtp_dkim_free(d.d)
		d.d = nil
		runtime.SetFinalizer(d, nil)
	}
	return nil
}

// Free is Close.
func (d *DKIM) Free() { d.Close() }

// lock takes the signer's mutex, failing on a closed signer.
func (d *DKIM) lock(op string) error {
	d.mu.Lock()
	if d.d == nil {
		d.mu.Unlock()
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed DKIM signer"}
	}
	return nil
}

func (d *DKIM) check(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return &Error{Code: Code(rc), Op: op, Message: C.GoString(C.smtp_dkim_errmsg(d.d))}
}

// withString runs f with s as a C string under the signer's lock.
func (d *DKIM) withString(op, what, s string, f func(*C.char) C.int) error {
	cs, err := cstring(op, what, s)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	if err := d.lock(op); err != nil {
		return err
	}
	defer d.mu.Unlock()
	return d.check(op, f(cs))
}

// SetHeaders chooses the header fields to sign (h=), case ignored; From is
// always signed, every instance of a field present is. No names restores
// the default list (RFC 6376 5.4.1's, plus Message-ID and the MIME
// fields).
func (d *DKIM) SetHeaders(names ...string) error {
	const op = "dkim_set_headers"
	cs, err := newCStrings(op, "header name", names)
	if err != nil {
		return err
	}
	defer cs.free()
	if err := d.lock(op); err != nil {
		return err
	}
	defer d.mu.Unlock()
	return d.check(op, C.smtp_dkim_set_headers(d.d, cs.arr, cs.len()))
}

// SetCanonicalization chooses the header and the body canonicalization
// (c=): DKIMSimple or DKIMRelaxed each.
func (d *DKIM) SetCanonicalization(header, body Canonicalization) error {
	const op = "dkim_set_canonicalization"
	if err := d.lock(op); err != nil {
		return err
	}
	defer d.mu.Unlock()
	return d.check(op, C.smtp_dkim_set_canonicalization(d.d, C.int(header), C.int(body)))
}

// Sign signs a raw RFC 5322 message and returns its DKIM-Signature field,
// folded and ending in CRLF, to put before the message's first line:
//
//	field, err := d.Sign(msg)
//	signed := append([]byte(field), msg...)
//
// Line ends are taken as the Normalize line-ending policy sends them (a
// lone LF or CR is a line end): send the signed message so (SendMessage,
// SendMail under Normalize) and unchanged, or it no longer verifies.
// Bcc is not signed by default, so SendMessage may drop it.
func (d *DKIM) Sign(msg []byte) (string, error) {
	const op = "dkim_sign"
	if err := d.lock(op); err != nil {
		return "", err
	}
	defer d.mu.Unlock()
	var field *C.char
	if err := d.check(op, C.smtp_dkim_sign(d.d, bytesPtr(msg), C.size_t(len(msg)), &field)); err != nil {
		return "", err
	}
	return C.GoString(field), nil
}

// DNSRecord is the DNS TXT record that publishes the public key ("v=DKIM1;
// k=rsa; p=..."), to put at selector._domainkey.domain.
func (d *DKIM) DNSRecord() (string, error) {
	const op = "dkim_dns_record"
	if err := d.lock(op); err != nil {
		return "", err
	}
	defer d.mu.Unlock()
	var record *C.char
	if err := d.check(op, C.smtp_dkim_dns_record(d.d, &record)); err != nil {
		return "", err
	}
	return C.GoString(record), nil
}
