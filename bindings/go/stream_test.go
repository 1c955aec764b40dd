package smtp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// A message read from an io.Reader arrives byte for byte, however the
// reader splits it (one byte at a time, short reads, data with io.EOF).
func TestSendMailStream(t *testing.T) {
	checkHandles(t)
	var body strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&body, "line %d of a streamed message\r\n", i)
	}
	body.WriteString(".a dot line\r\n")
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"onebyte":  iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"dataeof":  iotest.DataErrReader,
		"unbuffed": func(r io.Reader) io.Reader { return struct{ io.Reader }{r} },
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, sinkAddr)
			msg := []byte("Subject: stream\r\nMessage-ID: <stream-" + name + "@go.test>\r\n\r\n" + body.String())
			refused, err := c.SendMailStream(ctx, "alice@example.com", []string{"bob@example.com", "refuse@example.com"},
				wrap(bytes.NewReader(msg)), int64(len(msg)))
			if err != nil {
				t.Fatal(err)
			}
			if len(refused) != 1 || refused["refuse@example.com"].Code != 550 {
				t.Fatalf("refused = %v", refused)
			}
			got := findMessage(t, sinkDir, "stream-"+name+"@go.test")
			if !bytes.Equal(got.Eml, msg) {
				t.Fatalf("arrived %d bytes, sent %d", len(got.Eml), len(msg))
			}
		})
	}
}

type failingReader struct {
	n     int
	err   error
	panic bool
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		n := copy(p, bytes.Repeat([]byte("x"), r.n))
		r.n -= n
		return n, nil
	}
	if r.panic {
		panic("reader exploded")
	}
	return 0, r.err
}

// A reader that fails or panics aborts the message (the connection closed
// mid-message, nothing delivered): ErrIO with the cause in Err.
func TestSendMailStreamReaderFails(t *testing.T) {
	checkHandles(t)
	boom := errors.New("disk on fire")
	c := dial(t, sinkAddr)
	_, err := c.SendMailStream(ctx, "alice@example.com", []string{"bob@example.com"},
		&failingReader{n: 10000, err: boom}, -1)
	e := wantCode(t, err, smtp.ErrIO)
	if !errors.Is(err, boom) || e.Err != boom {
		t.Fatalf("error %+v, want the reader's", e)
	}
	if c.IsConnected() {
		t.Fatal("still connected after an aborted message")
	}

	c2 := dial(t, sinkAddr)
	_, err = c2.SendMailStream(ctx, "alice@example.com", []string{"bob@example.com"}, &failingReader{n: 10, panic: true}, -1)
	e = wantCode(t, err, smtp.ErrIO)
	var p *smtp.CallbackPanic
	if !errors.As(err, &p) || p.Value != "reader exploded" {
		t.Fatalf("error %+v, want a CallbackPanic", e)
	}
	// The Client still works.
	if _, err := c2.Connect(ctx, sinkAddr); err != nil {
		t.Fatal(err)
	}
	wantCode(t, mustErr(c2.SendMailStream(ctx, "a@example.com", []string{"b@example.com"}, nil, -1)), smtp.ErrNullArgument)
}

func mustErr(_ map[string]smtp.Reply, err error) error { return err }

// slowReader gives one line, then blocks each Read for a while.
type slowReader struct{ sent bool }

func (r *slowReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "Subject: slow\r\n\r\n"), nil
	}
	time.Sleep(20 * time.Millisecond)
	return copy(p, "more\r\n"), nil
}

// The context is checked between reads: cancelling it ends a stream whose
// reader never ends, with ErrCancelled.
func TestSendMailStreamContext(t *testing.T) {
	c := dial(t, sinkAddr)
	cctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.SendMailStream(cctx, "alice@example.com", []string{"bob@example.com"}, &slowReader{}, -1)
	took := time.Since(start)
	wantCode(t, err, smtp.ErrCancelled)
	if !errors.Is(err, context.DeadlineExceeded) || took > 400*time.Millisecond {
		t.Fatalf("%v after %v", err, took)
	}
}
