package smtp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := smtp.Dial(ctx, sinkAddr) // "mail.example.com:25"
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	msg := []byte("From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nHello.\r\n")
	refused, err := c.SendMail(ctx, "alice@example.com", []string{"bob@example.com", "refused@example.com"}, msg)
	if err != nil {
		log.Fatal(err)
	}
	for addr, r := range refused {
		fmt.Println("refused:", addr, r.Code)
	}
	c.Quit(ctx)
	// Output: refused: refused@example.com 550
}

func ExampleError() {
	ctx := context.Background()
	c, err := smtp.Dial(ctx, sinkAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.SendMail(ctx, "alice@example.com", []string{"refuse@example.com"}, []byte("Subject: x\r\n\r\nx\r\n"))
	var e *smtp.Error
	if errors.As(err, &e) && e.Code == smtp.ErrRecipientsRefused {
		fmt.Println("refused:", e.Refused["refuse@example.com"].Code)
	}
	fmt.Println(errors.Is(err, smtp.ErrRecipientsRefused), e.Code.Exception())
	// Output:
	// refused: 550
	// true SMTPRecipientsRefused
}

// A deadline ends a call that would wait longer: here a server that takes
// 2 s to greet.
func ExampleDial_deadline() {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := smtp.Dial(ctx, slowAddr)
	fmt.Println(errors.Is(err, smtp.ErrCancelled), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}

func ExampleClient_Auth() {
	ctx := context.Background()
	c, err := smtp.Dial(ctx, authAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Ehlo(ctx, "")
	// X-TOKEN: the server asks "token?"; the answer is the token.
	err = c.Auth(ctx, "X-TOKEN", smtp.MechanismFunc(func(challenge []byte) ([]byte, error) {
		fmt.Printf("challenge: %s\n", challenge)
		return []byte("open sesame"), nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("authenticated:", c.LastReply().Code)
	// Output:
	// challenge: token?
	// authenticated: 235
}

func ExampleClient_SendMailStream() {
	ctx := context.Background()
	c, err := smtp.Dial(ctx, sinkAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// Any io.Reader: an *os.File, a pipe, a network stream.
	r := strings.NewReader("Subject: streamed\r\n\r\nRead while it is sent.\r\n")
	refused, err := c.SendMailStream(ctx, "alice@example.com", []string{"bob@example.com"}, r, r.Size())
	fmt.Println(len(refused), err)
	// Output: 0 <nil>
}

func ExampleNewPool() {
	ctx := context.Background()
	p, err := smtp.NewPool(sinkAddr, 2, smtp.WithTimeout(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) { // any number of goroutines share the pool
			defer wg.Done()
			msg := []byte(fmt.Sprintf("Subject: pooled %d\r\n\r\nx\r\n", i))
			if _, err := p.SendMail(ctx, "alice@example.com", []string{"bob@example.com"}, msg); err != nil {
				log.Print(err)
			}
		}(i)
	}
	wg.Wait()
	fmt.Println("sent:", p.Stat(smtp.PoolSent))
	// Output: sent: 4
}
