package smtp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func batchMsg(id string) []byte {
	return []byte("Subject: batch\r\nMessage-ID: <" + id + "@go.test>\r\n\r\nbatched\r\n")
}

// Three messages on one session: each with its own envelope and result.
func TestSendMailBatch(t *testing.T) {
	c := dial(t, sinkAddr)
	msgs := []smtp.BatchMessage{
		{From: "alice@example.com", To: []string{"bob@example.com", "refuse-1@example.com"}, Msg: batchMsg("batch-1")},
		{From: "alice@example.com", To: []string{"refuse-2@example.com"}, Msg: batchMsg("batch-2")},
		{From: "carol@example.com", To: []string{"dave@example.com"}, Msg: batchMsg("batch-3")},
	}
	res, err := c.SendMailBatch(ctx, msgs)
	wantCode(t, err, smtp.ErrRecipientsRefused) // the first failure: message 2
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Err != nil || !reflect.DeepEqual(res[0].RcptCodes, []int{250, 550}) ||
		!reflect.DeepEqual(res[0].Refused, []string{"refuse-1@example.com"}) {
		t.Errorf("message 1: %+v", res[0])
	}
	if !errors.Is(res[1].Err, smtp.ErrRecipientsRefused) || res[1].Err != err ||
		!reflect.DeepEqual(res[1].Refused, []string{"refuse-2@example.com"}) {
		t.Errorf("message 2: %+v", res[1])
	}
	if res[2].Err != nil || !reflect.DeepEqual(res[2].RcptCodes, []int{250}) || len(res[2].Refused) != 0 {
		t.Errorf("message 3: %+v", res[2])
	}
	for _, id := range []string{"batch-1", "batch-3"} {
		got := findMessage(t, sinkDir, id+"@go.test")
		if !bytes.Contains(got.Eml, []byte("batched")) {
			t.Errorf("%s arrived as %q", id, got.Eml)
		}
	}
	if got := findMessage(t, sinkDir, "batch-3@go.test"); got.Meta.MailFrom != "carol@example.com" {
		t.Errorf("message 3's sender: %v", got.Meta)
	}
	// Refused arguments: nothing sent, the message says why.
	res, err = c.SendMailBatch(ctx, []smtp.BatchMessage{{From: "a@example.com", To: []string{"b\r\n@example.com"}, Msg: []byte("x")}})
	wantCode(t, err, smtp.ErrInvalidArgument)
	if len(res) != 1 || res[0].Err != err {
		t.Errorf("results %+v for refused arguments", res)
	}
	if res, err := c.SendMailBatch(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("an empty batch: %v, %v", res, err)
	}
}

// A pool shared by many goroutines: every message arrives, no more
// connections than allowed are opened, and the counters add up.
func TestPool(t *testing.T) {
	checkHandles(t)
	p, err := smtp.NewPool(sinkAddr, 2, smtp.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const goroutines, each = 8, 3
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("pool-%d-%d", g, i)
				refused, err := p.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "refuse@example.com"}, batchMsg(id))
				if err == nil && len(refused) != 1 {
					err = fmt.Errorf("%s: refused %v", id, refused)
				}
				errs <- err
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for g := 0; g < goroutines; g++ {
		findMessage(t, sinkDir, fmt.Sprintf("pool-%d-%d@go.test", g, each-1))
	}
	if n := p.Stat(smtp.PoolSent); n != goroutines*each {
		t.Errorf("PoolSent = %d", n)
	}
	if n := p.Stat(smtp.PoolOpened); n < 1 || n > 2 {
		t.Errorf("PoolOpened = %d, want 1 or 2", n)
	}
	t.Logf("pool: %d sent on %d connections", p.Stat(smtp.PoolSent), p.Stat(smtp.PoolOpened))

	// send_message and a batch through the pool.
	refused, err := p.SendMessage(ctx, []byte("From: alice@example.com\r\nTo: bob@example.com\r\nMessage-ID: <pool-sm@go.test>\r\n\r\nx\r\n"))
	if err != nil || len(refused) != 0 {
		t.Fatalf("SendMessage: %v, %v", refused, err)
	}
	res, err := p.SendMailBatch(ctx, []smtp.BatchMessage{
		{From: "alice@example.com", To: []string{"bob@example.com"}, Msg: batchMsg("pool-batch-1")},
		{From: "alice@example.com", To: []string{"bob@example.com"}, Msg: batchMsg("pool-batch-2")},
	})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("SendMailBatch: %+v, %v", res, err)
	}
	findMessage(t, sinkDir, "pool-batch-2@go.test")

	if err := p.SetOption(smtp.PoolMaxMessages, 100); err != nil {
		t.Fatal(err)
	}
	wantCode(t, p.SetOption(smtp.PoolOption(99), 1), smtp.ErrInvalidArgument)
	p.Close()
	_, err = p.SendMail(ctx, "a@example.com", []string{"b@example.com"}, []byte("x"))
	wantCode(t, err, smtp.ErrBadState)
	if p.Stat(smtp.PoolSent) != 0 {
		t.Error("Stat on a closed pool")
	}
}

// A pool call's context ends it, the wait for a connection included.
func TestPoolContext(t *testing.T) {
	p, err := smtp.NewPool(slowAddr, 1, smtp.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.SendMail(cctx, "alice@example.com", []string{"bob@example.com"}, batchMsg("pool-ctx"))
	took := time.Since(start)
	t.Logf("pool call with a 300ms deadline returned after %v", took)
	wantCode(t, err, smtp.ErrCancelled)
	if !errors.Is(err, context.DeadlineExceeded) || took > 400*time.Millisecond {
		t.Fatalf("%v after %v", err, took)
	}
}

// Authentication of each new pool connection: SetLogin, and SetAuth with
// a Go mechanism.
func TestPoolAuth(t *testing.T) {
	checkHandles(t)
	p, err := smtp.NewPool(authAddr, 2, smtp.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetLogin("alice", "wrong"); err != nil {
		t.Fatal(err)
	}
	_, err = p.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, batchMsg("pool-auth-0"))
	wantCode(t, err, smtp.ErrAuth)
	if err := p.SetLogin("", ""); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := 0
	err = p.SetAuth("X-TOKEN", smtp.MechanismFunc(func(ch []byte) ([]byte, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		if string(ch) != "token?" {
			return nil, fmt.Errorf("challenge %q", ch)
		}
		return []byte("open sesame"), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, batchMsg("pool-auth-1")); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("the mechanism ran %d times", calls)
	}
	if err := p.SetAuth("X-TOKEN", nil); err != nil {
		t.Fatal(err)
	}
}
