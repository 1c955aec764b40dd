"""The replaying scripted server of tests/conformance.rs, in Python.

It plays the server side of a transcript and checks every byte the client
sends, with the rules of shared/conformance/README.md: `c` lines compared
after upper-casing the verb, the FROM:/TO: keyword and each option's
keyword; `a` and `d` items byte for byte.
"""
import base64
import socket
import threading

READ_TIMEOUT = 3.0


def items(vector):
    out = []
    for item in vector["transcript"]:
        (key, value), = item.items()
        if key.endswith("_b64"):
            key, data = key[:-4], base64.b64decode(value)
        else:
            data = value.encode("utf-8")
        if key not in ("s", "c", "a", "d", "s_close", "c_close"):
            raise ValueError("unknown transcript item %r" % key)
        out.append((key, data))
    return out


def normalize_command(line):
    text = line.decode("utf-8", "surrogateescape")
    body = text[:-2] if text.endswith("\r\n") else text
    rest = text[len(body):]
    words = body.split(" ")
    if words:
        words[0] = words[0].upper()
    if words and words[0] in ("MAIL", "RCPT") and len(words) > 1:
        w = words[1]
        if ":" in w:
            colon = w.index(":")
            words[1] = w[:colon].upper() + w[colon:]
        for i in range(2, len(words)):
            k, eq, v = words[i].partition("=")
            words[i] = k.upper() + eq + v
    return (" ".join(words) + rest).encode("utf-8", "surrogateescape")


class _Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as e:
            raise AssertionError("reading from client: timed out (after %r)" % self.buf) from e
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk

    def read_line(self):
        while b"\n" not in self.buf and not self.eof and len(self.buf) <= 1_000_000:
            self._fill()
        i = self.buf.find(b"\n")
        n = i + 1 if i >= 0 else len(self.buf)
        line, self.buf = self.buf[:n], self.buf[n:]
        return line

    def read_exact(self, n):
        while len(self.buf) < n and not self.eof:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def serve(lsock, script):
    """Play `script` (items()) on the first connection; return None when
    the client did exactly what smtplib did, else what differed."""
    lsock.settimeout(10)
    try:
        sock, _ = lsock.accept()
    except OSError as e:
        return "no connection: %s" % e
    sock.settimeout(READ_TIMEOUT)
    conn = _Conn(sock)
    try:
        for n, (key, want) in enumerate(script):
            if key == "s":
                try:
                    sock.sendall(want)
                except OSError:
                    pass  # a client that closed early: the next item says so
            elif key == "c":
                got = conn.read_line()
                if normalize_command(got) != normalize_command(want):
                    return "item %d: client sent %r where smtplib sent %r" % (n, got, want)
            elif key == "a":
                got = conn.read_line()
                if got != want:
                    return "item %d: auth line %r where smtplib sent %r" % (n, got, want)
            elif key == "d":
                got = conn.read_exact(len(want))
                if got != want:
                    return "item %d: message data %r where smtplib sent %r" % (n, got, want)
            elif key == "s_close":
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return None
            elif key == "c_close":
                if conn.buf:
                    return "item %d: client sent %r instead of closing" % (n, conn.buf)
                try:
                    b = sock.recv(1)
                except ConnectionResetError:
                    b = b""
                except socket.timeout:
                    return "item %d: client did not close" % n
                if b:
                    return "item %d: client sent %r instead of closing" % (n, b)
                return None
        # Transcript done with the connection open: the client must send nothing more.
        if conn.buf:
            return "client sent %r after the transcript ended" % conn.buf
        sock.settimeout(0.2)
        try:
            b = sock.recv(64)
        except (socket.timeout, OSError):
            b = b""
        if b:
            return "client sent %r after the transcript ended" % b
        return None
    except AssertionError as e:
        return str(e)
    finally:
        sock.close()


class ScriptedServer:
    """Serves one transcript on 127.0.0.1 in a thread; .result() is None or
    what differed on the wire."""

    def __init__(self, script):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.host, self.port = self.lsock.getsockname()
        self._result = "server did not finish"
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script):
        try:
            self._result = serve(self.lsock, script)
        except Exception as e:  # noqa: BLE001
            self._result = "server error: %r" % e

    def result(self, timeout=10):
        self.thread.join(timeout)
        self.lsock.close()
        if self.thread.is_alive():
            return "server did not finish"
        return self._result
