package smtp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// The servers: scripts/run_tests.py starts them (tests/servers/servers.json
// describes each) and exports their addresses; bindings/go/test.sh adds
// the dsn and proxy servers with run_tests.py --serve. To run go test by
// hand: python3 scripts/run_tests.py --serve sink auth slow starttls
// implicit dsn socks httpproxy -- sh -c 'cd bindings/go && go test'.
var (
	sinkDir      string // LIBSMTP_SINK_DIR: NNNN.eml + NNNN.json per message
	sinkAddr     string // LIBSMTP_SINK: aiosmtpd; "refuse*" recipients get 550
	authAddr     string // LIBSMTP_AUTH: auth_server.py
	slowAddr     string // LIBSMTP_SLOW: a sink that waits 2 s before each greeting
	dsnAddr      string // LIBSMTP_DSN: a sink that offers DSN
	dsnDir       string
	tlsCAFile    string // LIBSMTP_TLS_FILES/ca.pem: the TLS servers' CA
	starttlsDir  string
	starttlsAddr string // localhost:port, STARTTLS
	implicitDir  string
	implicitAddr string // localhost:port, implicit TLS
	socksAddr    string // LIBSMTP_SOCKS: pproxy, SOCKS5 with user and password
	httpProxy    string // LIBSMTP_HTTPPROXY: pproxy, HTTP CONNECT with Basic auth
	proxyAuth    string // LIBSMTP_PROXY_AUTH: "user:password" both proxies require
	lmtpAddr     string // LIBSMTP_LMTP: scripted.py's mini LMTP (servers.json)
	lmtpDir      string // LIBSMTP_LMTP_DIR: holds lmtp.sock, the same on a Unix socket
)

// ctx is the context of calls that tests do not mean to cancel.
var ctx = context.Background()

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var missing []string
	env := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	sinkAddr, sinkDir = env("LIBSMTP_SINK"), env("LIBSMTP_SINK_DIR")
	authAddr, slowAddr = env("LIBSMTP_AUTH"), env("LIBSMTP_SLOW")
	dsnAddr, dsnDir = env("LIBSMTP_DSN"), env("LIBSMTP_DSN_DIR")
	lmtpAddr, lmtpDir = env("LIBSMTP_LMTP"), env("LIBSMTP_LMTP_DIR")
	socksAddr, httpProxy, proxyAuth = env("LIBSMTP_SOCKS"), env("LIBSMTP_HTTPPROXY"), env("LIBSMTP_PROXY_AUTH")
	starttlsDir, implicitDir = env("LIBSMTP_STARTTLS_DIR"), env("LIBSMTP_IMPLICIT_DIR")
	tlsCAFile = filepath.Join(env("LIBSMTP_TLS_FILES"), "ca.pem")
	// The certificate names localhost: the TLS servers are reached by it.
	for _, s := range []struct {
		v    string
		addr *string
	}{{"LIBSMTP_STARTTLS", &starttlsAddr}, {"LIBSMTP_IMPLICIT", &implicitAddr}} {
		if _, port, err := net.SplitHostPort(env(s.v)); err == nil {
			*s.addr = net.JoinHostPort("localhost", port)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "go binding tests: %s not set: run them with python3 scripts/run_tests.py go\n",
			strings.Join(missing, ", "))
		return 2
	}
	return m.Run()
}

// dial connects to addr and closes the Client when the test ends.
func dial(t *testing.T, addr string, opts ...smtp.Option) *smtp.Client {
	t.Helper()
	opts = append([]smtp.Option{smtp.WithTimeout(20 * time.Second)}, opts...)
	c, err := smtp.Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkHandles fails the test if a cgo.Handle is still alive at its end.
func checkHandles(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		if n := smtp.LiveHandles(); n != 0 {
			t.Errorf("%d cgo handles still alive", n)
		}
	})
}

// wantCode checks that err is an *smtp.Error with Code code, through
// errors.As and errors.Is, and returns it.
func wantCode(t *testing.T, err error, code smtp.Code) *smtp.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", code)
	}
	var se *smtp.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %q is not an *smtp.Error", err, err)
	}
	if se.Code != code {
		t.Fatalf("error code %v (%v), want %v", se.Code, err, code)
	}
	if !errors.Is(err, code) {
		t.Fatalf("errors.Is(%v, %v) is false", err, code)
	}
	return se
}

type stored struct {
	Eml  []byte
	Meta struct {
		MailFrom string   `json:"mail_from"`
		RcptTos  []string `json:"rcpt_tos"`
	}
}

// findMessage returns the message in dir whose bytes contain marker.
func findMessage(t *testing.T, dir, marker string) stored {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil || !bytes.Contains(b, []byte(marker)) {
				continue
			}
			var s stored
			s.Eml = b
			j, err := os.ReadFile(strings.TrimSuffix(n, ".eml") + ".json")
			if err != nil {
				break // written just after the .eml: look again
			}
			if err := json.Unmarshal(j, &s.Meta); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message with %q in %s", marker, dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scripted runs a one-connection server on loopback: serve gets the
// connection; the test fails on its error.
func scripted(t *testing.T, serve func(c net.Conn) error) string {
	t.Helper()
	return scriptedOn(t, "tcp", "127.0.0.1:0", serve)
}

// scriptedOn is scripted on a given network ("unix": a socket path).
func scriptedOn(t *testing.T, network, address string, serve func(c net.Conn) error) string {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var serr error
	go func() {
		defer wg.Done()
		conn, err := ln.Accept()
		if err != nil {
			serr = err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		serr = serve(conn)
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		if serr != nil {
			t.Errorf("scripted server: %v", serr)
		}
	})
	return ln.Addr().String()
}
