"""A scripted SMTP server: one act per connection, in order, each act a list
of steps read from the "scripts" section of servers.json (so that a
server's behaviour is data, written once, whoever tests against it).

Steps (consecutive sends go out in one write):
  {"send": TEXT}                      TEXT as bytes (latin-1: "\\u0000" is NUL)
  {"send": TEXT, "times": N}          TEXT N times
  {"read_line": true}                 read one line (or the end of stream)
  {"drain": true}                     read until the client closes
  {"sleep": S}                        wait S seconds, reading nothing
  {"answer_until": P, "reply": TEXT}  answer each line with TEXT until one
                                      starts with P (case-insensitive), which
                                      is left unanswered for the next step
  {"mini": {"lmtp": B, "cram": B}}    a small SMTP or LMTP server (serve_mini)
An act with "unix": true is served on DIR/lmtp.sock instead of TCP.
With --repeat the acts are served round and round, each connection on a
thread of its own, on TCP and on DIR/lmtp.sock (a server for any number of
clients, the lmtp entry).

Usage: python scripted.py --script NAME --dir DIR --port-file FILE
       [--repeat] [--parent-pid PID] [--host 127.0.0.1]
"""
import argparse
import base64
import json
import os
import socket
import threading
import time

from sink import publish_and_wait

SERVERS_JSON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers.json")
AUTH_OK = "235 2.7.0 Authentication successful\r\n"
AUTH_BAD = "535 5.7.8 Authentication credentials invalid\r\n"
AUTH_CANCELLED = "501 5.7.0 Authentication cancelled\r\n"
PLAIN_USER_PASS = "AHVzZXIAcGFzcw=="  # base64 of "\0user\0pass"
# CRAM-MD5 (RFC 2195) for user/pass: the server's challenge
# "<1896.697170952@mini.example>" and the answer "user " + hex(HMAC-MD5), both base64.
CRAM_CHALLENGE = "PDE4OTYuNjk3MTcwOTUyQG1pbmkuZXhhbXBsZT4="
CRAM_USER_PASS = "dXNlciBlODE4ZTQ5Yzc5NjMyMjFkZjA1MzYyNGE1NTgwZDgxYw=="


class Conn:
    """One accepted connection: buffered sends, a CRLF line reader."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.out = b""

    def send(self, text):
        self.out += text.encode("latin-1")

    def flush(self):
        if self.out:
            try:
                self.sock.sendall(self.out)
            except OSError:
                pass
            self.out = b""

    def line(self):
        """The next line without its CRLF, or None at the end of stream."""
        self.flush()
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                self.buf = b""  # an over-long line: dropped
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def drain(self):
        self.flush()
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass


def auth_line(c):
    """The next AUTH response line; None (after answering) for "*" or EOF."""
    line = c.line()
    if line == "*":
        c.send(AUTH_CANCELLED)
        return None
    return line


def serve_auth(c, args, cram):
    """PLAIN and LOGIN for user/pass, CRAM-MD5 when `cram`; X-TEST (challenge
    "challenge", response "response"), X-LONG (response: 5000 'x'), X-LOOP
    (challenges forever), X-BADB64 (a challenge that is not base64)."""
    if cram and args == "CRAM-MD5":
        c.send("334 %s\r\n" % CRAM_CHALLENGE)
        line = auth_line(c)
        if line is not None:
            c.send(AUTH_OK if line == CRAM_USER_PASS else AUTH_BAD)
    elif args == "PLAIN " + PLAIN_USER_PASS:
        c.send(AUTH_OK)
    elif args.startswith("PLAIN "):
        c.send(AUTH_BAD)
    elif args == "PLAIN":
        c.send("334 \r\n")
        line = auth_line(c)
        if line is not None:
            c.send(AUTH_OK if line == PLAIN_USER_PASS else AUTH_BAD)
    elif args == "LOGIN" or args.startswith("LOGIN "):
        user = args[6:] if args.startswith("LOGIN ") else None
        if user is None:
            c.send("334 VXNlcm5hbWU6\r\n")
            user = auth_line(c)
            if user is None:
                return
        c.send("334 UGFzc3dvcmQ6\r\n")
        line = auth_line(c)
        if line is not None:
            c.send(AUTH_OK if (user, line) == ("dXNlcg==", "cGFzcw==") else AUTH_BAD)
    elif args in ("X-TEST", "X-TEST aGVsbG8=", "X-TEST ="):
        c.send("334 Y2hhbGxlbmdl\r\n")
        line = auth_line(c)
        if line is not None:
            c.send(AUTH_OK if line == "cmVzcG9uc2U=" else AUTH_BAD)
    elif args == "X-LONG":
        # A response longer than any fixed buffer: 5000 'x'.
        c.send("334 \r\n")
        line = auth_line(c)
        if line is not None:
            try:
                ok = base64.b64decode(line, validate=True) == b"x" * 5000
            except ValueError:
                ok = False
            c.send(AUTH_OK if ok else AUTH_BAD)
    elif args.startswith("X-LOOP"):
        for _ in range(50):
            c.send("334 \r\n")
            if auth_line(c) is None:
                return
        c.send(AUTH_BAD)
    elif args.startswith("X-BADB64"):
        c.send("334 !!not base64!!\r\n")
        if auth_line(c) is not None:
            c.send(AUTH_BAD)
    else:
        c.send("504 5.5.4 Unrecognized authentication type\r\n")


def serve_mini(c, lmtp=False, cram=False):
    """A small SMTP or LMTP server: refuses senders and recipients named
    refuse*, says 421 and closes at a recipient named gone*, refuses every
    message on SMTP, and on LMTP replies per recipient after the data (452
    for one named late-fail*). "XSEEN" is answered "250 N": how many AUTH
    commands this connection received (so a test can tell none arrived)."""
    accepted, n_auth = [], 0
    c.send("220 mini LMTP\r\n" if lmtp else "220 mini ESMTP\r\n")
    while True:
        line = c.line()
        if line is None:
            return
        low = line.lower()
        if low.startswith("lhlo" if lmtp else "ehlo"):
            c.send("250-mini\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH %sPLAIN LOGIN\r\n"
                   % ("CRAM-MD5 " if cram else ""))
        elif low.startswith("auth"):
            n_auth += 1
            serve_auth(c, line[5:] if low.startswith("auth ") else "", cram)
        elif line == "XSEEN":
            c.send("250 %d\r\n" % n_auth)
        elif low.startswith("mail from:<refuse"):
            c.send("553 5.7.1 sender refused\r\n")
        elif low.startswith("mail"):
            accepted = []
            c.send("250 ok\r\n")
        elif low.startswith("rcpt to:<gone"):
            c.send("421 4.3.0 going away\r\n")
            return
        elif low.startswith("rcpt to:<refuse"):
            c.send("550 5.1.1 no such user\r\n")
        elif low.startswith("rcpt"):
            accepted.append(low.startswith("rcpt to:<late-fail"))
            c.send("250 2.1.5 ok\r\n")
        elif low.startswith("data"):
            c.send("354 go ahead\r\n")
            while True:
                body = c.line()
                if body is None:
                    return
                if body == ".":
                    break
            if lmtp:
                for late in accepted:
                    c.send("452 4.2.2 mailbox full\r\n" if late else "250 2.0.0 delivered\r\n")
            else:
                c.send("554 5.6.0 message refused\r\n")
            accepted = []
        elif low.startswith("rset"):
            accepted = []
            c.send("250 ok\r\n")
        elif low.startswith("quit"):
            c.send("221 bye\r\n")
            return
        else:
            c.send("250 ok\r\n")


def run_act(c, steps):
    for step in steps:
        if "send" in step:
            c.send(step["send"] * step.get("times", 1))
        elif "read_line" in step:
            c.line()
        elif "drain" in step:
            c.drain()
        elif "sleep" in step:
            c.flush()
            time.sleep(step["sleep"])
        elif "answer_until" in step:
            prefix = step["answer_until"].lower()
            while True:
                line = c.line()
                if line is None:
                    return
                if line.lower().startswith(prefix):
                    break
                c.send(step["reply"])
        elif "mini" in step:
            serve_mini(c, **step["mini"])
        else:
            raise ValueError("unknown step %r" % (step,))
    c.flush()


def serve_one(sock, act):
    sock.settimeout(30)  # no act outlives a client that went quiet
    try:
        run_act(Conn(sock), act["steps"])
    finally:
        sock.close()


def serve(acts, tcp, unix):
    """One act per connection, in order, one connection at a time."""
    for act in acts:
        sock, _ = (unix if act.get("unix") else tcp).accept()
        serve_one(sock, act)


def serve_repeat(acts, listener):
    """The acts round and round, a thread per connection (on TCP and on the
    Unix-domain socket alike)."""
    n = 0
    while True:
        sock, _ = listener.accept()
        act = acts[n % len(acts)]
        n += 1
        threading.Thread(target=serve_one, args=(sock, act), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--repeat", action="store_true")
    a = ap.parse_args()
    with open(SERVERS_JSON) as fh:
        acts = json.load(fh)["scripts"][a.script]
    os.makedirs(a.dir, exist_ok=True)
    tcp = socket.create_server((a.host, 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(os.path.join(a.dir, "lmtp.sock"))
    unix.listen(8)
    if a.repeat:
        for listener in (tcp, unix):
            threading.Thread(target=serve_repeat, args=(acts, listener), daemon=True).start()
    else:
        threading.Thread(target=serve, args=(acts, tcp, unix), daemon=True).start()
    publish_and_wait(tcp.getsockname()[1], a.port_file, a.parent_pid)


if __name__ == "__main__":
    main()
