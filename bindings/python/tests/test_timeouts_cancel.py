"""timeout= bounding every wait, the per-phase limits (set_timeout /
get_timeout) and cancel() from another thread. Servers are real sockets on
127.0.0.1: raw ones below that stall or trickle, and the aiosmtpd sink of
conftest.py to show a session is usable again."""
import smtplib
import socket
import threading
import time

import pytest

import libsmtp
from libsmtp import _native as N

MSG = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: t\r\n\r\nhello\r\n"
PHASES = ("connect", "io", "reply", "greeting", "mail", "rcpt", "data", "data_block", "final_dot")


class RawServer:
    """Accepts connections on 127.0.0.1; on each sends `prefix` at once,
    then `trickle` one byte every `interval` seconds, then nothing (it
    never closes first). What the client sends is kept in `received`;
    `accepted` and `got_data` are set as those happen."""

    def __init__(self, prefix=b"", trickle=b"", interval=0.1):
        self.prefix, self.trickle, self.interval = prefix, trickle, interval
        self.accepted = threading.Event()
        self.got_data = threading.Event()
        self.received = b""
        self.conns = []
        self._stop = threading.Event()
        self._threads = []
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.05)
        self.port = self.lsock.getsockname()[1]
        self._spawn(self._accept_loop)

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()
            self._spawn(self._serve, conn)

    def _serve(self, conn):
        try:
            conn.sendall(self.prefix)
            for i in range(len(self.trickle)):
                if self._stop.wait(self.interval):
                    return
                conn.sendall(self.trickle[i:i + 1])
            conn.settimeout(0.05)
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                self.received += chunk
                self.got_data.set()
        except OSError:  # the client closed the connection
            return

    def peer_closed(self, index=0, timeout=2.0):
        """Whether the client closed connection `index` (EOF or reset)."""
        conn = self.conns[index]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn.settimeout(0.05)
                if conn.recv(4096, socket.MSG_PEEK) == b"":
                    return True
                conn.recv(4096)  # data before the close: skip it
            except socket.timeout:
                continue
            except OSError:
                return True
        return False

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self.lsock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def raw_servers():
    made = []

    def make(**kw):
        server = RawServer(**kw)
        made.append(server)
        return server
    yield make
    for server in made:
        server.close()


def in_thread(fn, *args):
    """Run fn(*args) on a thread: (thread, outcome dict with "value" or
    "error", and "at", the monotonic time it ended)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            outcome["error"] = e
        outcome["at"] = time.monotonic()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, outcome


# ---- cancel() ----------------------------------------------------------------

def test_exception_class():
    assert libsmtp.EXCEPTION_FOR_RESULT[N.SMTP_ERR_CANCELLED] is libsmtp.SMTPCancelledError
    assert N.SMTP_ERR_CANCELLED == 16
    assert issubclass(libsmtp.SMTPCancelledError, smtplib.SMTPServerDisconnected)
    assert not issubclass(libsmtp.SMTPCancelledError, TimeoutError)
    assert not issubclass(libsmtp.SMTPCancelledError, libsmtp.SMTPTimeoutError)
    assert libsmtp.SMTPCancelledError.__module__ == "libsmtp"


def test_cancel_connect_waiting_for_greeting(raw_servers, sink):
    """A server that accepts and never speaks: cancel() from another thread
    ends connect() with SMTPCancelledError at once; a new connect works."""
    silent = raw_servers()
    s = libsmtp.SMTP(local_hostname="client.example", timeout=30)
    try:
        t, outcome = in_thread(s.connect, "127.0.0.1", silent.port)
        assert silent.accepted.wait(5)
        time.sleep(0.2)  # connect() is now waiting for the greeting
        assert t.is_alive(), outcome
        t0 = time.monotonic()
        s.cancel()  # does not wait for connect(), which holds the object's lock
        assert time.monotonic() - t0 < 0.1
        t.join(5)
        assert not t.is_alive(), "connect() still blocked 5 s after cancel()"
        err = outcome.get("error")
        assert isinstance(err, libsmtp.SMTPCancelledError), outcome
        assert outcome["at"] - t0 < 0.5, "connect() returned %.3f s after cancel()" % (outcome["at"] - t0)
        assert err.libsmtp_result == N.SMTP_ERR_CANCELLED and err.libsmtp_errmsg
        assert isinstance(err, smtplib.SMTPServerDisconnected)
        assert not s.connected
        assert silent.peer_closed(), "the cancelled connection was not closed"

        # The object is usable again after a new connect.
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        assert s.sendmail("a@example.com", ["b@example.com"], MSG) == {}
        assert s.quit()[0] == 221
        assert len(sink.messages()) == 1
    finally:
        s.close()


def test_cancel_command_waiting_for_reply(raw_servers):
    """The greeting arrives, then NOOP gets no answer: cancel() ends noop()."""
    mute = raw_servers(prefix=b"220 mx.example ESMTP\r\n")
    s = libsmtp.SMTP(local_hostname="client.example", timeout=30)
    try:
        assert s.connect("127.0.0.1", mute.port)[0] == 220
        t, outcome = in_thread(s.noop)
        assert mute.got_data.wait(5)
        assert mute.received == b"noop\r\n"
        time.sleep(0.1)
        t0 = time.monotonic()
        s.cancel()
        t.join(5)
        assert isinstance(outcome.get("error"), libsmtp.SMTPCancelledError), outcome
        assert outcome["at"] - t0 < 0.5
        assert not s.connected
        with pytest.raises(smtplib.SMTPServerDisconnected):
            s.noop()  # closed: connect again first
    finally:
        s.close()


def test_cancel_when_idle_does_nothing(sink):
    s = libsmtp.SMTP(local_hostname="client.example", timeout=10)
    try:
        s.cancel()  # never connected
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        s.cancel()  # connected, no call running
        s.cancel()
        assert s.connected
        t0 = time.monotonic()
        assert s.noop()[0] == 250  # the next call is not cancelled
        assert s.sendmail("a@example.com", ["b@example.com"], MSG) == {}
        assert time.monotonic() - t0 < 5
        assert s.connected
        assert s.quit()[0] == 221
        s.cancel()  # after quit
        s.close()
        s.cancel()  # after close
    finally:
        s.close()
    assert len(sink.messages()) == 1


def test_cancel_after_free_is_a_no_op():
    s = libsmtp.SMTP()
    s.free()
    s.cancel()
    s.cancel()


def test_cancel_racing_free_does_not_crash():
    """cancel() on one thread while free() runs on another: never a use of
    a freed session (_free_lock), whatever the interleaving."""
    for _ in range(200):
        s = libsmtp.SMTP()
        go = threading.Event()

        def hammer(obj=s):
            go.wait(5)
            for _ in range(20):
                obj.cancel()
        t = threading.Thread(target=hammer)
        t.start()
        go.set()
        s.free()
        t.join(5)
        assert not t.is_alive()


# ---- timeout= bounds every wait ----------------------------------------------

TRICKLED = b"220 " + b"x" * 200 + b"\r\n"  # one byte per 100 ms: about 20 s


def test_trickled_greeting_constructor_times_out(raw_servers):
    """The greeting arrives one byte per 100 ms: with timeout=1 no single
    read waits long, but the greeting as a whole is bounded by 1 s."""
    trickle = raw_servers(trickle=TRICKLED, interval=0.1)
    t0 = time.monotonic()
    with pytest.raises(libsmtp.SMTPTimeoutError) as info:
        libsmtp.SMTP("127.0.0.1", trickle.port, local_hostname="client.example", timeout=1)
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 1.5, "timed out after %.3f s" % elapsed
    assert isinstance(info.value, TimeoutError)
    assert trickle.peer_closed()


def test_trickled_greeting_connect_times_out(raw_servers):
    trickle = raw_servers(trickle=TRICKLED, interval=0.1)
    s = libsmtp.SMTP(local_hostname="client.example", timeout=1)
    try:
        t0 = time.monotonic()
        with pytest.raises(libsmtp.SMTPTimeoutError):
            s.connect("127.0.0.1", trickle.port)
        elapsed = time.monotonic() - t0
        assert 0.9 <= elapsed < 1.5, "timed out after %.3f s" % elapsed
        assert not s.connected
    finally:
        s.close()


def test_phase_limit_set_before_connect_is_kept(raw_servers):
    """set_timeout() survives connect(): a 0.5 s greeting limit wins over
    timeout=30."""
    trickle = raw_servers(trickle=TRICKLED, interval=0.1)
    s = libsmtp.SMTP(local_hostname="client.example", timeout=30)
    try:
        s.set_timeout("greeting", 0.5)
        t0 = time.monotonic()
        with pytest.raises(libsmtp.SMTPTimeoutError):
            s.connect("127.0.0.1", trickle.port)
        elapsed = time.monotonic() - t0
        assert 0.4 <= elapsed < 1.0, "timed out after %.3f s" % elapsed
        assert s.get_timeout("greeting") == 0.5
        assert s.get_timeout("io") == 30.0
    finally:
        s.close()


# ---- set_timeout() / get_timeout() ---------------------------------------------

def test_timeout_names():
    assert libsmtp.TIMEOUT_NAMES == PHASES + ("call", "all")
    for name in libsmtp.TIMEOUT_NAMES:
        assert hasattr(N, "SMTP_TIMEOUT_" + name.upper())


def test_set_get_one_phase():
    s = libsmtp.SMTP()
    try:
        s.set_timeout("greeting", 2.5)
        assert s.get_timeout("greeting") == 2.5
        assert N.lib.smtp_session_timeout_ms(s._s, N.SMTP_TIMEOUT_GREETING) == 2500
        s.set_timeout("FINAL_DOT", 0.0004)  # below a millisecond: 1 ms, never "no limit"
        assert s.get_timeout("final_dot") == 0.001
        s.set_timeout("call", 60)
        assert s.get_timeout("call") == 60.0
        s.set_timeout("call", None)
        assert s.get_timeout("call") is None
        s.set_timeout("data_block", 10 ** 12)  # clamped to the C API's range
        assert s.get_timeout("data_block") == (2 ** 32 - 1) / 1000
    finally:
        s.free()


def test_set_get_all():
    s = libsmtp.SMTP()
    try:
        s.set_timeout("call", 60)
        s.set_timeout("all", 7)
        for name in PHASES:
            assert s.get_timeout(name) == 7.0, name
        assert s.get_timeout("all") == 7.0
        assert s.get_timeout("call") == 60.0  # "all" leaves the call limit alone
        s.set_timeout("final_dot", 20)
        assert s.get_timeout("all") == 20.0  # the longest single wait
        s.set_timeout("mail", None)
        assert s.get_timeout("mail") is None
        assert s.get_timeout("all") is None  # one wait is unlimited
    finally:
        s.free()


@pytest.mark.parametrize("name", ["bogus", "", "data-block", "timeout", 3, None, b"io"])
def test_invalid_timeout_name(name):
    s = libsmtp.SMTP()
    try:
        with pytest.raises(ValueError):
            s.set_timeout(name, 5)
        with pytest.raises(ValueError):
            s.get_timeout(name)
    finally:
        s.free()


@pytest.mark.parametrize("seconds", [0, -1, float("nan")])
def test_invalid_timeout_value(seconds):
    s = libsmtp.SMTP()
    try:
        before = s.get_timeout("io")
        with pytest.raises(ValueError):
            s.set_timeout("io", seconds)
        assert s.get_timeout("io") == before
    finally:
        s.free()


def test_get_timeout_after_free():
    s = libsmtp.SMTP()
    s.free()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        s.get_timeout("io")


def test_numeric_timeout_sets_every_wait_at_connect(sink):
    defaults = libsmtp.SMTP()
    lib_default = {name: defaults.get_timeout(name) for name in PHASES}
    defaults.free()
    s = libsmtp.SMTP(local_hostname="client.example", timeout=5)
    try:
        s.set_timeout("final_dot", 120)  # kept over timeout=
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        for name in PHASES:
            assert s.get_timeout(name) == (120.0 if name == "final_dot" else 5.0), name
        assert s.get_timeout("call") is None  # timeout= is per wait, not per call
        s.quit()

        # timeout=None: connect and I/O unlimited, the reply limits stay libsmtp's.
        s.timeout = None
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        assert s.get_timeout("connect") is None and s.get_timeout("io") is None
        for name in PHASES[2:]:
            assert s.get_timeout(name) == (120.0 if name == "final_dot" else lib_default[name]), name
        s.quit()
    finally:
        s.close()


def test_default_timeout_keeps_library_defaults(sink):
    fresh = libsmtp.SMTP()
    lib_default = {name: fresh.get_timeout(name) for name in PHASES}
    fresh.free()
    s = libsmtp.SMTP(local_hostname="client.example")
    try:
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        assert {name: s.get_timeout(name) for name in PHASES} == lib_default
        s.quit()
        s.timeout = 3  # a later numeric timeout, then back to the default
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        assert s.get_timeout("all") == 3.0
        s.quit()
        s.timeout = socket._GLOBAL_DEFAULT_TIMEOUT
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        assert {name: s.get_timeout(name) for name in PHASES} == lib_default
        s.quit()
    finally:
        s.close()
