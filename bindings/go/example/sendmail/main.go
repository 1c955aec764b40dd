// Command sendmail sends one message with libsmtp: the example test.sh
// builds against the static library (-tags libsmtp_static) and runs with
// no environment at all.
//
//	sendmail HOST:PORT FROM TO SUBJECT
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: sendmail HOST:PORT FROM TO SUBJECT")
		os.Exit(2)
	}
	addr, from, to, subject := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := smtp.Dial(ctx, addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	msg := []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nSent by libsmtp " +
		smtp.Version() + " from Go.\r\n")
	if _, err := c.SendMail(ctx, from, []string{to}, msg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := c.Quit(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("sent:", subject)
}
