package smtp_test

import (
	"errors"
	"fmt"
	"log"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func ExampleDial() {
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
	fmt.Println(errors.Is(err, smtp.ErrRecipientsRefused))
	// Output:
	// refused: 550
	// true
}

func ExampleClient_Auth() {
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
