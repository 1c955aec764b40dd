package smtp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"libsmtp.example/smtp"
)

// The servers TestMain starts (tests/servers/*.py under the venv's python).
var (
	repoRoot     string
	python       string
	workDir      string
	sinkDir      string
	sinkAddr     string // 127.0.0.1:port of sink.py
	authAddr     string // auth_server.py
	tlsCAFile    string // the trustme CA of the TLS servers
	starttlsDir  string
	starttlsAddr string // localhost:port, tls_server.py --mode starttls
	implicitDir  string
	implicitAddr string // localhost:port, tls_server.py --mode implicit
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	repoRoot = root
	python = os.Getenv("SMTP_TEST_PYTHON")
	if python == "" {
		python = filepath.Join(repoRoot, "build", "venv", "bin", "python")
	}
	if _, err := os.Stat(python); err != nil {
		fmt.Fprintf(os.Stderr, "no python for the test servers at %s (run sh scripts/deps.sh or set SMTP_TEST_PYTHON)\n", python)
		return 2
	}
	if workDir, err = os.MkdirTemp("", "libsmtp-go-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(workDir)

	// A test CA and a certificate for localhost, made by trustme.
	tlsCAFile = filepath.Join(workDir, "ca.pem")
	certFile := filepath.Join(workDir, "cert.pem")
	keyFile := filepath.Join(workDir, "key.pem")
	script := `import sys, trustme
ca = trustme.CA()
cert = ca.issue_cert("localhost", "127.0.0.1")
ca.cert_pem.write_to_path(sys.argv[1])
cert.cert_chain_pems[0].write_to_path(sys.argv[2])
cert.private_key_pem.write_to_path(sys.argv[3])
`
	if out, err := exec.Command(python, "-c", script, tlsCAFile, certFile, keyFile).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "trustme: %v\n%s", err, out)
		return 2
	}

	servers := filepath.Join(repoRoot, "tests", "servers")
	sinkDir = filepath.Join(workDir, "sink")
	starttlsDir = filepath.Join(workDir, "starttls")
	implicitDir = filepath.Join(workDir, "implicit")
	specs := []struct {
		name string
		args []string
		addr *string
		host string
	}{
		{"sink", []string{filepath.Join(servers, "sink.py"), "--dir", sinkDir}, &sinkAddr, "127.0.0.1"},
		{"auth", []string{filepath.Join(servers, "auth_server.py")}, &authAddr, "127.0.0.1"},
		{"starttls", []string{filepath.Join(servers, "tls_server.py"), "--mode", "starttls", "--cert", certFile,
			"--key", keyFile, "--dir", starttlsDir}, &starttlsAddr, "localhost"},
		{"implicit", []string{filepath.Join(servers, "tls_server.py"), "--mode", "implicit", "--cert", certFile,
			"--key", keyFile, "--dir", implicitDir}, &implicitAddr, "localhost"},
	}
	var procs []*server
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	// Start them all, then wait for each port file.
	for _, s := range specs {
		portFile := filepath.Join(workDir, s.name+".port")
		args := append(append([]string{}, s.args...), "--port-file", portFile, "--parent-pid", fmt.Sprint(os.Getpid()))
		cmd := exec.Command(python, args...)
		// The servers log session exceptions (the failure tests cause some):
		// kept in a file, shown when a test fails.
		logf, err := os.Create(filepath.Join(workDir, s.name+".log"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer logf.Close()
		cmd.Stdout, cmd.Stderr = logf, logf
		p, err := startServer(cmd)
		if err != nil {
			fmt.Fprintf(os.Stderr, "start %s: %v\n", s.name, err)
			return 2
		}
		procs = append(procs, p)
	}
	for i, s := range specs {
		port, err := procs[i].waitPort(filepath.Join(workDir, s.name+".port"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s server: %v\n", s.name, err)
			return 2
		}
		*s.addr = net.JoinHostPort(s.host, port)
	}
	rc := m.Run()
	if rc != 0 {
		for _, s := range specs {
			if b, _ := os.ReadFile(filepath.Join(workDir, s.name+".log")); len(b) > 0 {
				fmt.Fprintf(os.Stderr, "--- %s server log:\n%s", s.name, b)
			}
		}
	}
	return rc
}

// server is a test server process.
type server struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

func startServer(cmd *exec.Cmd) (*server, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &server{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// waitPort waits for the port the server writes to path once listening.
func (p *server) waitPort(path string) (string, error) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("exited before listening (%v)", p.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("no port in %s after 20 s", path)
}

func (p *server) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// dial connects to addr and closes the Client when the test ends.
func dial(t *testing.T, addr string, opts ...smtp.Option) *smtp.Client {
	t.Helper()
	opts = append([]smtp.Option{smtp.WithTimeout(20 * time.Second)}, opts...)
	c, err := smtp.Dial(addr, opts...)
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
