package smtp_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// The slow server (LIBSMTP_SLOW) waits 2 s before each greeting: a call
// that connects to it is inside the library, waiting, for 2 s.

// Cancelling the context ends the call within 100 ms, with ErrCancelled
// and context.Canceled; the Client is usable afterwards.
func TestContextCancelEndsTheCall(t *testing.T) {
	checkHandles(t)
	c, err := smtp.New(smtp.SMTP, smtp.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		r, err := c.Open(cctx, slowAddr)
		done <- result{r, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond) // well inside the 2 s wait
	cancelled := time.Now()
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not return within 5 s of the cancel")
	}
	took := r.at.Sub(cancelled)
	t.Logf("context cancel to return: %v", took)
	if took > 100*time.Millisecond {
		t.Errorf("the call returned %v after the cancel, want <= 100ms", took)
	}
	wantCode(t, r.err, smtp.ErrCancelled)
	if !errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("errors.Is: Canceled %v, DeadlineExceeded %v (%v)", errors.Is(r.err, context.Canceled),
			errors.Is(r.err, context.DeadlineExceeded), r.err)
	}
	if c.IsConnected() {
		t.Error("connected after a cancelled connect")
	}
	if r, err := c.Open(ctx, sinkAddr); err != nil || r.Code != 220 {
		t.Fatalf("Open after the cancel = %v, %v", r, err)
	}
	c.Quit(ctx)
}

// A deadline ends the call when it passes: errors.Is finds
// context.DeadlineExceeded (and not context.Canceled).
func TestContextDeadlineEndsTheCall(t *testing.T) {
	dctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	c, err := smtp.Dial(dctx, slowAddr, smtp.WithTimeout(20*time.Second))
	took := time.Since(start)
	t.Logf("deadline 300ms, Dial returned after %v", took)
	if c != nil {
		c.Close()
		t.Fatal("Dial succeeded")
	}
	e := wantCode(t, err, smtp.ErrCancelled)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is: DeadlineExceeded %v, Canceled %v (%v)", errors.Is(err, context.DeadlineExceeded),
			errors.Is(err, context.Canceled), err)
	}
	if e.Err != context.DeadlineExceeded {
		t.Errorf("Error.Err = %v", e.Err)
	}
	if took < 300*time.Millisecond || took > 400*time.Millisecond {
		t.Errorf("Dial took %v, want 300ms to 400ms", took)
	}
}

// A context that has already ended fails the call before it begins:
// nothing is sent, the connection stays as it was.
func TestContextAlreadyDone(t *testing.T) {
	c := dial(t, sinkAddr)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Noop(done)
	e := wantCode(t, err, smtp.ErrCancelled)
	if e.Err != context.Canceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %+v", e)
	}
	if !c.IsConnected() {
		t.Fatal("an ended context closed the connection")
	}
	if r, err := c.Noop(ctx); err != nil || r.Code != 250 {
		t.Fatalf("Noop = %v, %v", r, err)
	}
}

// A goroutine waiting in the library does not stop the others: with one
// P (GOMAXPROCS 1), a ticker goroutine keeps ticking every 50 ms while a
// Dial waits 2 s for the slow server's greeting.
func TestOtherGoroutinesKeepRunning(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	stop := make(chan struct{})
	var ticks []time.Time
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case now := <-tk.C:
				ticks = append(ticks, now)
			case <-stop:
				return
			}
		}
	}()
	start := time.Now()
	c, err := smtp.Dial(ctx, slowAddr, smtp.WithTimeout(20*time.Second))
	took := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Quit(ctx)
	if took < 1900*time.Millisecond {
		t.Fatalf("the slow greeting came after %v, not 2 s: the test shows nothing", took)
	}
	var maxGap time.Duration
	prev := start
	for _, at := range ticks {
		if gap := at.Sub(prev); gap > maxGap {
			maxGap = gap
		}
		prev = at
	}
	t.Logf("Dial to the slow server took %v; %d ticks, longest gap %v", took, len(ticks), maxGap)
	if maxGap > 100*time.Millisecond {
		t.Errorf("the ticker stalled for %v, want <= 100ms", maxGap)
	}
	if len(ticks) < int(took/(100*time.Millisecond)) {
		t.Errorf("%d ticks in %v", len(ticks), took)
	}
}

// Calls on one Client queue: a second call waits for the first; its own
// context ends the wait (ErrCancelled, the running call untouched); with
// no deadline it runs once the first is done.
func TestCallsQueue(t *testing.T) {
	c, err := smtp.New(smtp.SMTP, smtp.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := make(chan result, 1)
	go func() {
		r, err := c.Open(ctx, slowAddr)
		first <- result{r, err, time.Now()}
	}()
	time.Sleep(200 * time.Millisecond) // the Open holds the Client now

	wctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Noop(wctx)
	waited := time.Since(start)
	e := wantCode(t, err, smtp.ErrCancelled)
	if !errors.Is(err, context.DeadlineExceeded) || waited > 400*time.Millisecond {
		t.Fatalf("the waiting Noop: %v after %v (%+v)", err, waited, e)
	}

	second := make(chan result, 1)
	go func() {
		r, err := c.Noop(ctx)
		second <- result{r, err, time.Now()}
	}()
	r1 := <-first
	if r1.err != nil || r1.reply.Code != 220 {
		t.Fatalf("the first call: %v, %v", r1.reply, r1.err)
	}
	r2 := <-second
	if r2.err != nil || r2.reply.Code != 250 {
		t.Fatalf("the queued Noop: %v, %v", r2.reply, r2.err)
	}
	if r2.at.Before(r1.at) {
		t.Fatal("the queued call returned before the first")
	}
	c.Quit(ctx)
}
