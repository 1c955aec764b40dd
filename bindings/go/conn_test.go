package smtp_test

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func newClient(t *testing.T, opts ...smtp.Option) *smtp.Client {
	t.Helper()
	c, err := smtp.New(smtp.SMTP, append([]smtp.Option{smtp.WithTimeout(20 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sendOne(t *testing.T, c *smtp.Client, id string) {
	t.Helper()
	msg := []byte("Subject: " + id + "\r\nMessage-ID: <" + id + "@go.test>\r\n\r\nhello\r\n")
	if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	findMessage(t, sinkDir, id+"@go.test")
}

// A session over a connection the caller made: a *net.TCPConn and an
// *os.File (the Client works on a duplicate; the caller closes its own).
func TestConnectConn(t *testing.T) {
	for _, kind := range []string{"net.Conn", "os.File"} {
		t.Run(kind, func(t *testing.T) {
			conn, err := net.Dial("tcp", sinkAddr)
			if err != nil {
				t.Fatal(err)
			}
			var sc syscall.Conn = conn.(*net.TCPConn)
			if kind == "os.File" {
				f, err := conn.(*net.TCPConn).File()
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				sc = f
			}
			c := newClient(t)
			r, err := c.ConnectConn(ctx, sc, "")
			conn.Close() // the Client has its own descriptor
			if err != nil || r.Code != 220 {
				t.Fatalf("ConnectConn = %v, %v", r, err)
			}
			fd := c.Fileno()
			if fd < 0 {
				t.Fatalf("Fileno() = %d while connected", fd)
			}
			sendOne(t, c, "connect-conn-"+strings.ReplaceAll(kind, ".", "-"))
			c.Quit(ctx)
			if fd := c.Fileno(); fd != -1 {
				t.Fatalf("Fileno() = %d after Quit", fd)
			}
		})
	}
}

// ConnectFD takes the descriptor whatever happens; one that is not a
// connected stream socket is refused and closed.
func TestConnectFD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd, err := syscall.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	c := newClient(t)
	_, err = c.ConnectFD(ctx, fd, "")
	wantCode(t, err, smtp.ErrInvalidArgument)
	// The library closed it.
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); errno != syscall.EBADF {
		t.Errorf("fd %d still open after a refused ConnectFD (%v)", fd, errno)
	}
}

// smtplib's send and getreply: raw bytes out, one reply in.
func TestSendGetReply(t *testing.T) {
	c := dial(t, sinkAddr)
	if err := c.Send(ctx, []byte("NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	r, err := c.GetReply(ctx)
	if err != nil || r.Code != 250 {
		t.Fatalf("GetReply = %v, %v", r, err)
	}
	if err := c.Send(ctx, []byte("HELP\r\nNOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if r, err := c.GetReply(ctx); err != nil || r.Code/100 != 2 {
			t.Fatalf("reply %d = %v, %v", i, r, err)
		}
	}
	c.Disconnect()
	wantCode(t, c.Send(ctx, []byte("NOOP\r\n")), smtp.ErrServerDisconnected)
	_, err = c.GetReply(ctx)
	wantCode(t, err, smtp.ErrServerDisconnected)
}

// SOCKS5 and HTTP CONNECT proxies (pproxy, requiring a user and password).
func TestProxy(t *testing.T) {
	user, pass, ok := strings.Cut(proxyAuth, ":")
	if !ok {
		t.Fatalf("LIBSMTP_PROXY_AUTH = %q", proxyAuth)
	}
	pass = strings.ReplaceAll(pass, "@", "%40")
	for _, p := range []struct{ name, url string }{
		{"socks5", "socks5://" + user + ":" + pass + "@" + socksAddr},
		{"socks5h", "socks5h://" + user + ":" + pass + "@" + socksAddr},
		{"http", "http://" + user + ":" + pass + "@" + httpProxy},
	} {
		t.Run(p.name, func(t *testing.T) {
			var trace []string
			c := newClient(t, smtp.WithProxy(p.url), smtp.WithDebugLevel(1),
				smtp.WithTrace(func(_ smtp.TraceDirection, line string) { trace = append(trace, line) }))
			if r, err := c.Open(ctx, sinkAddr); err != nil || r.Code != 220 {
				t.Fatalf("Open through %s = %v, %v", p.name, r, err)
			}
			sendOne(t, c, "proxy-"+p.name)
			c.Quit(ctx)
			all := strings.Join(trace, "\n")
			if !strings.Contains(strings.ToLower(all), "proxy") {
				t.Errorf("the trace does not mention the proxy:\n%s", all)
			}
			if strings.Contains(all, "s3cret") {
				t.Error("the trace shows the proxy password")
			}
		})
	}
	c := newClient(t, smtp.WithProxy("socks5://"+user+":wrong@"+socksAddr))
	_, err := c.Open(ctx, sinkAddr)
	e := wantCode(t, err, smtp.ErrConnect)
	if strings.Contains(e.Message, "wrong") {
		t.Errorf("the error shows the password: %s", e.Message)
	}
	wantCode(t, c.SetProxy("ftp://proxy.example"), smtp.ErrInvalidArgument)
	if err := c.SetProxy(""); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Open(ctx, sinkAddr); err != nil || r.Code != 220 {
		t.Fatalf("Open without the proxy = %v, %v", r, err)
	}
}
