package smtp_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// result is what a call run on another goroutine returned, and when.
type result struct {
	reply smtp.Reply
	err   error
	at    time.Time
}

// runAsync runs f on a new goroutine; its result arrives on the channel.
func runAsync(f func() (smtp.Reply, error)) <-chan result {
	ch := make(chan result, 1)
	go func() {
		r, err := f()
		ch <- result{r, err, time.Now()}
	}()
	return ch
}

// cancelAndWait cancels c once entered is closed (the call is inside the
// library), and checks that the call returns ErrCancelled within 500 ms.
func cancelAndWait(t *testing.T, c *smtp.Client, entered <-chan struct{}, done <-chan result) {
	t.Helper()
	select {
	case <-entered:
	case r := <-done:
		t.Fatalf("the call returned before the cancel: %v, %v", r.reply, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw nothing of the call")
	}
	// Let the call settle into its wait; Cancel must end it from there.
	time.Sleep(100 * time.Millisecond)
	cancelled := time.Now()
	c.Cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not return within 5 s of Cancel")
	}
	if d := r.at.Sub(cancelled); d > 500*time.Millisecond {
		t.Errorf("the call returned %v after Cancel, want < 500ms", d)
	}
	e := wantCode(t, r.err, smtp.ErrCancelled)
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) is false", r.err)
	}
	if e.Message == "" {
		t.Errorf("error %+v has no message", e)
	}
	if c.IsConnected() {
		t.Error("still connected after a cancelled call")
	}
}

// silentServer accepts one connection, closes entered, and never speaks;
// it reads until the client goes.
func silentServer(t *testing.T) (addr string, entered <-chan struct{}) {
	ch := make(chan struct{})
	addr = scripted(t, func(conn net.Conn) error {
		close(ch)
		_, _ = io.Copy(io.Discard, conn)
		return nil
	})
	return addr, ch
}

func TestCancelGreeting(t *testing.T) {
	for _, op := range []string{"Connect", "Open"} {
		t.Run(op, func(t *testing.T) {
			checkHandles(t)
			// No timeout would end this wait for minutes: only Cancel can.
			c, err := smtp.New(smtp.SMTP)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			addr, entered := silentServer(t)
			done := runAsync(func() (smtp.Reply, error) {
				if op == "Open" {
					return c.Open(ctx, addr)
				}
				return c.Connect(ctx, addr)
			})
			cancelAndWait(t, c, entered, done)

			// The Client is usable again: connect to a real server.
			r, err := c.Connect(ctx, sinkAddr)
			if err != nil || r.Code != 220 {
				t.Fatalf("Connect after the cancel = %v, %v", r, err)
			}
			if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
				t.Fatalf("Noop after the cancel = %v, %v", r, err)
			}
			if _, err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCancelCommand(t *testing.T) {
	checkHandles(t)
	// A server that greets, then reads NOOP and never answers it.
	entered := make(chan struct{})
	addr := scripted(t, func(conn net.Conn) error {
		if _, err := conn.Write([]byte("220 silent.example ESMTP\r\n")); err != nil {
			return err
		}
		br := bufio.NewReader(conn)
		if _, err := br.ReadString('\n'); err != nil {
			return err
		}
		close(entered)
		_, _ = io.Copy(io.Discard, br)
		return nil
	})
	c, err := smtp.New(smtp.SMTP, smtp.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect(ctx, addr); err != nil {
		t.Fatal(err)
	}
	done := runAsync(func() (smtp.Reply, error) { return c.Noop(ctx) })
	cancelAndWait(t, c, entered, done)
	_, err = c.Noop(ctx)
	wantCode(t, err, smtp.ErrServerDisconnected)
}

func TestTimeoutTrickledGreeting(t *testing.T) {
	// One byte of the greeting every 100 ms: no read waits long, but the
	// greeting as a whole must not take more than the timeout.
	addr := scripted(t, func(conn net.Conn) error {
		greeting := []byte("220 trickle.example ESMTP a very slow greeting indeed\r\n")
		for _, b := range greeting {
			if _, err := conn.Write([]byte{b}); err != nil {
				return nil // the client gave up: expected
			}
			time.Sleep(100 * time.Millisecond)
		}
		return nil
	})
	c, err := smtp.New(smtp.SMTP, smtp.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Connect(ctx, addr)
	d := time.Since(start)
	e := wantCode(t, err, smtp.ErrTimeout)
	if d >= 1500*time.Millisecond {
		t.Fatalf("the timeout fired after %v, want < 1.5s (%v)", d, e)
	}
	if d < 800*time.Millisecond {
		t.Fatalf("the timeout fired after %v, before the 1s limit (%v)", d, e)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) is true for a timeout", err)
	}
	if c.IsConnected() {
		t.Error("still connected after the timeout")
	}
}

func TestCancelIdle(t *testing.T) {
	checkHandles(t)
	c := dial(t, sinkAddr)
	// Nothing runs: nothing happens, and the next call is not cancelled.
	c.Cancel()
	c.Cancel()
	if !c.IsConnected() {
		t.Fatal("Cancel when idle closed the connection")
	}
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop after an idle Cancel = %v, %v", r, err)
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}

	// Never connected, and after Close: a no-op, no crash.
	c2, err := smtp.New(smtp.LMTP)
	if err != nil {
		t.Fatal(err)
	}
	c2.Cancel()
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	c2.Cancel()
	c2.Cancel()
	if _, err := c2.Noop(ctx); !errors.Is(err, smtp.ErrBadState) {
		t.Fatalf("Noop after Close = %v", err)
	}
}

func TestCancelRacesClose(t *testing.T) {
	// Cancel from several goroutines, without pause, while a call waits on a
	// silent server and then while the Client is closed: the call ends
	// cancelled, and no Cancel touches a freed session (the race detector
	// and the C library would tell).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	defer func() { ln.Close(); conns.Wait() }()
	conns.Add(1)
	go func() {
		defer conns.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = io.Copy(io.Discard, conn)
			}()
		}
	}()
	for i := 0; i < 20; i++ {
		c, err := smtp.New(smtp.SMTP, smtp.WithTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						c.Cancel()
						return
					default:
						c.Cancel()
						time.Sleep(time.Millisecond)
					}
				}
			}()
		}
		start := time.Now()
		_, err = c.Connect(ctx, ln.Addr().String())
		wantCode(t, err, smtp.ErrCancelled)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the cancelled Connect took %v", d)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		close(stop)
		wg.Wait()
		c.Cancel()
	}
}

func TestTimeoutAll(t *testing.T) {
	if smtp.TimeoutAll != 10 || smtp.TimeoutCall != 9 {
		t.Fatalf("TimeoutAll = %d, TimeoutCall = %d", smtp.TimeoutAll, smtp.TimeoutCall)
	}
	perWait := []smtp.TimeoutKind{smtp.TimeoutConnect, smtp.TimeoutIO, smtp.TimeoutReply, smtp.TimeoutGreeting,
		smtp.TimeoutMail, smtp.TimeoutRcpt, smtp.TimeoutData, smtp.TimeoutDataBlock, smtp.TimeoutFinalDot}

	cl, err := smtp.New(smtp.SMTP, smtp.WithTimeout(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := func(which smtp.TimeoutKind, d time.Duration) {
		t.Helper()
		if got := cl.Timeout(which); got != d {
			t.Errorf("Timeout(%d) = %v, want %v", which, got, d)
		}
	}
	// WithTimeout sets every per-wait limit, not the per-call one.
	for _, k := range perWait {
		want(k, 1500*time.Millisecond)
	}
	want(smtp.TimeoutCall, 0)
	want(smtp.TimeoutAll, 1500*time.Millisecond)

	// Get: the longest of the limits.
	if err := cl.SetTimeout(smtp.TimeoutGreeting, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	want(smtp.TimeoutAll, 3*time.Second)
	// The per-call limit is not one of them.
	if err := cl.SetTimeout(smtp.TimeoutCall, time.Minute); err != nil {
		t.Fatal(err)
	}
	want(smtp.TimeoutAll, 3*time.Second)
	// One unlimited: 0.
	if err := cl.SetTimeout(smtp.TimeoutIO, 0); err != nil {
		t.Fatal(err)
	}
	want(smtp.TimeoutAll, 0)

	// Set: all of them at once (rounded up to a millisecond).
	if err := cl.SetTimeout(smtp.TimeoutAll, 2*time.Second-time.Microsecond); err != nil {
		t.Fatal(err)
	}
	for _, k := range perWait {
		want(k, 2*time.Second)
	}
	want(smtp.TimeoutAll, 2*time.Second)
	want(smtp.TimeoutCall, time.Minute)

	// A later WithTimeoutFor overrides one limit of WithTimeout.
	c2, err := smtp.New(smtp.SMTP, smtp.WithTimeout(time.Second), smtp.WithTimeoutFor(smtp.TimeoutData, 4*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := c2.Timeout(smtp.TimeoutData); got != 4*time.Second {
		t.Errorf("TimeoutData = %v", got)
	}
	if got := c2.Timeout(smtp.TimeoutAll); got != 4*time.Second {
		t.Errorf("TimeoutAll = %v", got)
	}
	if got := c2.Timeout(smtp.TimeoutRcpt); got != time.Second {
		t.Errorf("TimeoutRcpt = %v", got)
	}
}

func TestErrCancelled(t *testing.T) {
	if smtp.ErrCancelled != 16 || smtp.ErrCancelled.String() != "ErrCancelled" {
		t.Fatalf("ErrCancelled = %d %q", int(smtp.ErrCancelled), smtp.ErrCancelled.String())
	}
	if smtp.ErrCancelled.Error() == "" {
		t.Fatal("no description")
	}
	if !errors.Is(smtp.ErrCancelled, context.Canceled) {
		t.Error("errors.Is(ErrCancelled, context.Canceled) is false")
	}
	if errors.Is(smtp.ErrTimeout, context.Canceled) || errors.Is(smtp.ErrCancelled, context.DeadlineExceeded) {
		t.Error("another code matches context.Canceled, or ErrCancelled context.DeadlineExceeded")
	}
	e := &smtp.Error{Code: smtp.ErrCancelled}
	if !errors.Is(e, context.Canceled) || !errors.Is(e, smtp.ErrCancelled) || errors.Is(e, smtp.ErrTimeout) {
		t.Error("*Error with ErrCancelled: errors.Is is wrong")
	}
}
