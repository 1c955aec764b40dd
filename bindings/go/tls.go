package smtp

/*
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
)

// TLSConfigBuilder collects TLS settings (smtp_tls_config_builder). The
// defaults: trust the Mozilla roots, verify certificates and host names,
// TLS 1.2 minimum, no client certificate. Build makes a TLSConfig; the
// builder stays usable. Close frees it (a finalizer does if it is
// forgotten). Its methods are serialised by a mutex.
type TLSConfigBuilder struct {
	mu sync.Mutex
	b  *C.smtp_tls_config_builder
}

// NewTLSConfigBuilder makes a builder with the defaults.
func NewTLSConfigBuilder() *TLSConfigBuilder {
	b := &TLSConfigBuilder{b: C.smtp_tls_config_builder_new()}
	runtime.SetFinalizer(b, (*TLSConfigBuilder).Close)
	return b
}

// Close frees the builder; configurations built from it stay valid. It is
// idempotent; the other methods then return ErrBadState.
func (b *TLSConfigBuilder) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b != nil {
		C.smtp_tls_config_builder_free(b.b)
		b.b = nil
		runtime.SetFinalizer(b, nil)
	}
	return nil
}

// Free is Close.
func (b *TLSConfigBuilder) Free() { b.Close() }

func (b *TLSConfigBuilder) begin(op string) error {
	b.mu.Lock()
	if b.b == nil {
		b.mu.Unlock()
		return &Error{Code: ErrBadState, Op: op, Message: "use of a closed TLSConfigBuilder"}
	}
	return nil
}

func (b *TLSConfigBuilder) check(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return &Error{Code: Code(rc), Op: op, Message: C.GoString(C.smtp_tls_config_builder_errmsg(b.b))}
}

// withString runs f with s as a C string under the builder's lock.
func (b *TLSConfigBuilder) withString(op, what, s string, f func(*C.char) C.int) error {
	cs, err := cstring(op, what, s)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	if err := b.begin(op); err != nil {
		return err
	}
	defer b.mu.Unlock()
	return b.check(op, f(cs))
}

// AddCAFile trusts the CA certificates in a PEM file as well (smtplib's
// cafile). ErrTLS when it cannot be read or holds none.
func (b *TLSConfigBuilder) AddCAFile(path string) error {
	return b.withString("tls_add_ca_file", "path", path, func(p *C.char) C.int {
		return C.smtp_tls_config_builder_add_ca_file(b.b, p)
	})
}

// AddCADir trusts every PEM certificate in the files of a directory as well
// (smtplib's capath).
func (b *TLSConfigBuilder) AddCADir(path string) error {
	return b.withString("tls_add_ca_dir", "path", path, func(p *C.char) C.int {
		return C.smtp_tls_config_builder_add_ca_dir(b.b, p)
	})
}

// SetDefaultRoots: trust the built-in Mozilla roots (true, the default) or
// only the CAs added (false).
func (b *TLSConfigBuilder) SetDefaultRoots(use bool) error {
	if err := b.begin("tls_set_default_roots"); err != nil {
		return err
	}
	defer b.mu.Unlock()
	return b.check("tls_set_default_roots", C.smtp_tls_config_builder_set_default_roots(b.b, cbool(use)))
}

// Roots is a set of built-in trust stores for SetRoots.
type Roots uint

const (
	// RootsMozilla: the Mozilla roots built into the library
	// (webpki-roots), the same on every platform. The default.
	RootsMozilla Roots = 1
	// RootsSystem: the system's trust store, loaded by SetRoots.
	RootsSystem Roots = 2
)

// SetRoots chooses the built-in trust stores trusted beside the CAs added
// from files: RootsMozilla, RootsSystem, both, or 0 (only the added CAs).
// With RootsSystem the store is loaded now; info then says how many
// certificates were loaded and from where, and names those skipped.
// ErrTLS when not one could be loaded (the builder is then unchanged);
// other bits are ErrInvalidArgument.
func (b *TLSConfigBuilder) SetRoots(roots Roots) (info string, err error) {
	if err := b.begin("tls_set_roots"); err != nil {
		return "", err
	}
	defer b.mu.Unlock()
	if err := b.check("tls_set_roots", C.smtp_tls_config_builder_set_roots(b.b, C.uint(roots))); err != nil {
		return "", err
	}
	return C.GoString(C.smtp_tls_config_builder_errmsg(b.b)), nil
}

// SetClientCert presents a client certificate (smtplib's certfile and
// keyfile): the PEM chain, leaf first, and its PEM private key.
func (b *TLSConfigBuilder) SetClientCert(chainPath, keyPath string) error {
	cc, err := cstring("tls_set_client_cert", "chain path", chainPath)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cc))
	return b.withString("tls_set_client_cert", "key path", keyPath, func(k *C.char) C.int {
		return C.smtp_tls_config_builder_set_client_cert(b.b, cc, k)
	})
}

// SetServerName checks the server's certificate against (and sends as SNI)
// name instead of the host given to connect.
func (b *TLSConfigBuilder) SetServerName(name string) error {
	return b.withString("tls_set_server_name", "name", name, func(n *C.char) C.int {
		return C.smtp_tls_config_builder_set_server_name(b.b, n)
	})
}

// DangerousDisableVerification accepts any certificate for any name. Anyone
// on the path can then read and change the connection. Test setups only.
func (b *TLSConfigBuilder) DangerousDisableVerification() error {
	if err := b.begin("tls_dangerous_disable_verification"); err != nil {
		return err
	}
	defer b.mu.Unlock()
	return b.check("tls_dangerous_disable_verification", C.smtp_tls_config_builder_dangerous_disable_verification(b.b))
}

// Build makes a configuration from the settings. ErrTLS when they do not
// make one (no trust anchor, a key that does not fit the certificate).
func (b *TLSConfigBuilder) Build() (*TLSConfig, error) {
	if err := b.begin("tls_build"); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	var out *C.smtp_tls_config
	if err := b.check("tls_build", C.smtp_tls_config_builder_build(b.b, &out)); err != nil {
		return nil, err
	}
	cfg := &TLSConfig{c: out}
	runtime.SetFinalizer(cfg, (*TLSConfig).Close)
	return cfg, nil
}

// TLSConfig is a built TLS configuration (smtp_tls_config): immutable,
// safe to share between Clients and goroutines. Clients given it keep their
// own reference, so it may be closed as soon as it has been handed to them
// (WithTLSConfig, SetTLSConfig); StartTLS uses it only during the call.
type TLSConfig struct {
	mu sync.RWMutex
	c  *C.smtp_tls_config
}

// Close frees the configuration (idempotent). Clients given it keep working.
func (t *TLSConfig) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.c != nil {
		C.smtp_tls_config_free(t.c)
		t.c = nil
		runtime.SetFinalizer(t, nil)
	}
	return nil
}

// Free is Close.
func (t *TLSConfig) Free() { t.Close() }

// use read-locks t (nil allowed: the library's NULL) for the duration of a
// call; release with the returned function.
func (t *TLSConfig) use(op string) (*C.smtp_tls_config, func(), error) {
	if t == nil {
		return nil, func() {}, nil
	}
	t.mu.RLock()
	if t.c == nil {
		t.mu.RUnlock()
		return nil, nil, &Error{Code: ErrBadState, Op: op, Message: "use of a closed TLSConfig"}
	}
	return t.c, t.mu.RUnlock, nil
}

// SetTLSConfig sets the configuration for SMTPSSL connections and
// StartTLS(nil); nil restores the default (Mozilla roots, verification on).
func (c *Client) SetTLSConfig(cfg *TLSConfig) error {
	p, release, err := cfg.use("set_tls_config")
	if err != nil {
		return err
	}
	defer release()
	if err := c.begin("set_tls_config"); err != nil {
		return err
	}
	defer c.unlock()
	return c.check("set_tls_config", C.smtp_session_set_tls_config(c.s, p))
}

// StartTLS is smtplib's starttls: EHLO or HELO if needed, STARTTLS (not
// advertised: ErrNotSupported; refused: ErrResponse), then the handshake
// with cfg (nil: the Client's), the certificate checked against the host
// given to connect. A failed handshake is ErrTLS naming the check, with the
// connection closed. Afterwards the session has forgotten the EHLO state:
// EHLO again (SendMail and Login do it themselves).
func (c *Client) StartTLS(ctx context.Context, cfg *TLSConfig) (Reply, error) {
	p, release, err := cfg.use("starttls")
	if err != nil {
		return Reply{}, err
	}
	defer release()
	return c.doReply(ctx, "starttls", func(s *C.smtp_session, code *C.int) C.int {
		return C.smtp_session_starttls(s, p, code)
	})
}

// IsEncrypted reports whether the current connection is TLS.
func (c *Client) IsEncrypted() bool {
	if c.begin("is_encrypted") != nil {
		return false
	}
	defer c.unlock()
	return C.smtp_session_is_encrypted(c.s) != 0
}

// TLSVersion is the current connection's TLS version ("TLSv1.3"), "" when
// it is not TLS.
func (c *Client) TLSVersion() string {
	if c.begin("tls_version") != nil {
		return ""
	}
	defer c.unlock()
	s, _ := optGoString(C.smtp_session_tls_version(c.s))
	return s
}

// TLSCipher is the current connection's cipher suite (IANA name), "" when
// it is not TLS.
func (c *Client) TLSCipher() string {
	if c.begin("tls_cipher") != nil {
		return ""
	}
	defer c.unlock()
	s, _ := optGoString(C.smtp_session_tls_cipher(c.s))
	return s
}
