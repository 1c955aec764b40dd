package smtp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// esmtpScript is a server scripted here because no server of
// tests/servers offers PIPELINING and CHUNKING (aiosmtpd has neither). It
// offers both, answers everything with success, and records the verbs it
// got and whether the client sent on after MAIL before its reply
// (pipelining).
type esmtpScript struct {
	verbs     []string
	pipelined bool
	data      []byte
	done      chan struct{} // closed when serve returns: then read the above
}

func (s *esmtpScript) serve(conn net.Conn) error {
	defer close(s.done)
	br := bufio.NewReader(conn)
	w := func(line string) error { _, err := io.WriteString(conn, line+"\r\n"); return err }
	if err := w("220 script.example ESMTP"); err != nil {
		return err
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		s.verbs = append(s.verbs, verb)
		switch verb {
		case "EHLO":
			err = w("250-script.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME")
		case "MAIL":
			// Does the client send on before this reply? Only a
			// pipelining client does.
			_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			_, perr := br.Peek(1)
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			s.pipelined = perr == nil
			err = w("250 2.1.0 OK")
		case "RCPT", "RSET", "NOOP":
			err = w("250 OK")
		case "DATA":
			if err = w("354 go ahead"); err != nil {
				return err
			}
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return err
				}
				if l == ".\r\n" {
					break
				}
				s.data = append(s.data, l...)
			}
			err = w("250 2.0.0 queued")
		case "BDAT":
			f := strings.Fields(line)
			n, perr := strconv.Atoi(f[1])
			if perr != nil {
				return perr
			}
			chunk := make([]byte, n)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return err
			}
			s.data = append(s.data, chunk...)
			err = w("250 2.0.0 chunk ok")
		case "QUIT":
			return w("221 bye")
		default:
			err = w("500 what")
		}
		if err != nil {
			return err
		}
	}
}

// The pipelining and chunking switches: with both on (the default) MAIL,
// RCPT and the data go without waiting and the data as BDAT; off, each
// reply is awaited and the data goes by DATA. The bytes are the same.
func TestPipeliningAndChunkingSwitches(t *testing.T) {
	msg := []byte("Subject: switches\r\n\r\n.dot line\r\nbody\r\n")
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("on=", on), func(t *testing.T) {
			s := &esmtpScript{done: make(chan struct{})}
			addr := scripted(t, s.serve)
			c := newClient(t, smtp.WithPipelining(on), smtp.WithChunking(on))
			if _, err := c.Open(ctx, addr); err != nil {
				t.Fatal(err)
			}
			if _, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			<-s.done
			has := map[string]bool{}
			for _, v := range s.verbs {
				has[v] = true
			}
			if has["BDAT"] != on || has["DATA"] == on {
				t.Errorf("chunking %v: verbs %v", on, s.verbs)
			}
			if s.pipelined != on {
				t.Errorf("pipelining %v: the client sent on before the MAIL reply: %v", on, s.pipelined)
			}
			want := string(msg)
			if !on {
				want = strings.Replace(want, "\r\n.dot", "\r\n..dot", 1) // dot-stuffed by DATA
			}
			if string(s.data) != want {
				t.Errorf("data %q, want %q", s.data, want)
			}
		})
	}
}

// A context ending just as the call starts: the watcher's cancel is rung
// until the call returns, so even a cancel that falls before the library
// call begins is not lost. Deadlines from 0 to 19 ms on a connect to the
// slow server, which would otherwise wait 2 s.
func TestContextRacesTheCall(t *testing.T) {
	c := newClient(t)
	for i := 0; i < 20; i++ {
		d := time.Duration(i) * time.Millisecond
		cctx, cancel := context.WithTimeout(context.Background(), d)
		start := time.Now()
		_, err := c.Open(cctx, slowAddr)
		cancel()
		if took := time.Since(start); took > d+100*time.Millisecond {
			t.Errorf("deadline %v: the call took %v", d, took)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("deadline %v: %v", d, err)
		}
	}
}
