package smtp

// Running a session over a connection the caller made
// (smtp_session_connect_fd): from a descriptor, a net.Conn or an *os.File.

/*
#include <stdlib.h>
#include <smtp.h>
*/
import "C"

import (
	"context"
	"syscall"
	"unsafe"
)

// ConnectFD runs the session over fd, a connected stream socket (TCP or
// Unix-domain), and reads the greeting as Connect does (a greeting other
// than 220 is not an error); for SMTPSSL the TLS handshake comes first. An
// open connection is closed first; the session's proxy is not used. host
// is the server's name for TLS to check the certificate against ("" when
// there will be no TLS or the TLS configuration names the server).
//
// fd belongs to the Client from the call on, whatever the result: it is
// closed on failure, and on success by Disconnect, Quit, Close, the next
// connect or an error that ends the connection. Do not use or close it
// afterwards. A descriptor that is not a connected TCP or Unix stream
// socket is ErrInvalidArgument.
func (c *Client) ConnectFD(ctx context.Context, fd int, host string) (Reply, error) {
	ch, err := optCString("connect_fd", "host", host)
	if err != nil {
		syscall.Close(fd)
		return Reply{}, err
	}
	defer C.free(unsafe.Pointer(ch))
	given := false
	r, err := c.doReply(ctx, "connect_fd", func(s *C.smtp_session, code *C.int) C.int {
		given = true
		return C.smtp_session_connect_fd(s, C.int(fd), ch, code)
	})
	if !given {
		// Refused before the library took it (a closed Client, an ended
		// context): the descriptor is still ours to close.
		syscall.Close(fd)
	}
	return r, err
}

// ConnectConn is ConnectFD over a duplicate of conn's descriptor: conn is
// a *net.TCPConn, a *net.UnixConn, an *os.File holding a socket, or
// anything else with a SyscallConn method over a connected stream socket.
// conn stays the caller's, to close when it likes (the Client's duplicate
// keeps the connection open), but must no longer be read or written: the
// session owns the stream from now on. A conn without a descriptor (a
// *tls.Conn, net.Pipe) is ErrInvalidArgument; for TLS use SMTPSSL or
// StartTLS over the plain connection.
func (c *Client) ConnectConn(ctx context.Context, conn syscall.Conn, host string) (Reply, error) {
	const op = "connect_conn"
	if conn == nil {
		return Reply{}, &Error{Code: ErrNullArgument, Op: op, Message: "nil connection"}
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return Reply{}, &Error{Code: ErrInvalidArgument, Op: op, Message: "the connection has no descriptor", Err: err}
	}
	fd := -1
	var derr error
	cerr := raw.Control(func(s uintptr) {
		// Close-on-exec, set under ForkLock as os/exec expects, so that a
		// child started meanwhile does not inherit the duplicate.
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		if fd, derr = syscall.Dup(int(s)); derr == nil {
			syscall.CloseOnExec(fd)
		}
	})
	if cerr == nil {
		cerr = derr
	}
	if cerr != nil {
		return Reply{}, &Error{Code: ErrInvalidArgument, Op: op, Message: "cannot duplicate the connection's descriptor", Err: cerr}
	}
	return c.ConnectFD(ctx, fd, host)
}
