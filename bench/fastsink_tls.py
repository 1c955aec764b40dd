"""fastsink_tls: the fast sink's protocol over implicit TLS (SMTPS), for case 5.

A standalone Rust file has no TLS library, so this one is Python: the TLS
work is Python's ssl module (OpenSSL, in C); Python only looks for command
lines and, in DATA, for the end (CRLF . CRLF) in each decrypted record, so
it keeps up with a client sending at hundreds of MB/s. Same replies,
counters and XSTATS as bench/fastsink.rs; a thread per connection.

    python fastsink_tls.py --cert CHAIN_AND_KEY.pem --port-file FILE [--port P]
"""

import argparse
import socket
import socketserver
import ssl
import threading

LOCK = threading.Lock()
STATS = {"messages": 0, "bytes": 0, "sessions": 0}

EHLO = b"250-fastsink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n"


def add(key, n):
    with LOCK:
        STATS[key] += n


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        add("sessions", 1)
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.server.ctx.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.serve(conn)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def serve(self, conn):
        conn.sendall(b"220 fastsink ESMTP\r\n")
        rbuf = bytearray(1 << 20)
        view = memoryview(rbuf)
        pending = b""  # unconsumed input: a partial command, or the last bytes of data
        in_data = False
        count = 0
        while True:
            n = conn.recv_into(view)
            if n == 0:
                return
            data = pending + view[:n] if pending else bytes(view[:n])
            pos = 0
            out = []
            while True:
                if in_data:
                    i = data.find(b"\r\n.\r\n", pos)
                    if i < 0:
                        keep = min(4, len(data) - pos)
                        count += len(data) - pos - keep
                        pos = len(data) - keep
                        break
                    count += i + 2 - pos
                    pos = i + 5
                    add("messages", 1)
                    add("bytes", count)
                    out.append(b"250 2.0.0 Ok: queued\r\n")
                    in_data = False
                    continue
                i = data.find(b"\r\n", pos)
                if i < 0:
                    break
                line = data[pos:i]
                pos = i + 2
                verb = line.split(b" ", 1)[0].upper()
                if verb in (b"EHLO", b"LHLO"):
                    out.append(EHLO)
                elif verb == b"HELO":
                    out.append(b"250 fastsink\r\n")
                elif verb == b"MAIL":
                    out.append(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    out.append(b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    out.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    in_data = True
                    # The CRLF ending DATA counts for the end of an empty message.
                    pos -= 2
                    count = -2
                elif verb in (b"RSET", b"NOOP"):
                    out.append(b"250 2.0.0 Ok\r\n")
                elif verb == b"XSTATS":
                    with LOCK:
                        out.append(b"250 %d %d %d\r\n" % (STATS["messages"], STATS["bytes"], STATS["sessions"]))
                elif verb == b"QUIT":
                    out.append(b"221 2.0.0 Bye\r\n")
                    conn.sendall(b"".join(out))
                    return
                else:
                    out.append(b"502 5.5.2 Error: command not recognized\r\n")
            pending = data[pos:]
            if out:
                conn.sendall(b"".join(out))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True, help="PEM with the private key and the certificate chain")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.ctx = ctx
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write(f"{port}\n")
    srv.serve_forever()


if __name__ == "__main__":
    main()
