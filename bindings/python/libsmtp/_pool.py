"""Pool: connections to one server shared by threads (smtp_pool_*).

Each call runs on a session of the pool's own (one per call at a time,
kept for reuse), which the library lends a connection for the call: the
session's timeouts, envelope, pipelining and chunking switches apply, and
its cancel ends the call (libsmtp.aio.Pool does that when its task is
cancelled). A message is delivered at most once by the pool and reported
sent only when the server said so (SMTPOutcomeUnknownError otherwise).
"""
from __future__ import annotations

import contextlib
import email.generator
import email.message
import io
import socket
import threading
from ctypes import byref
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _native as N
from ._client import (LMTP, SMTP, Address, AuthObject, BatchResult, Message, _AuthBridge, _ms, _opt_text,
                      _text)
from ._envelope import Envelope
from ._errors import make_error

# Pool.set_option() names -> (SMTP_POOL_*, how the value is converted).
POOL_OPTIONS: Dict[str, Tuple[int, Callable[[Any], int]]] = {
    "starttls": (N.SMTP_POOL_STARTTLS, lambda v: 1 if v else 0),          # STARTTLS on each connection
    "max_messages": (N.SMTP_POOL_MAX_MESSAGES, int),                      # QUIT after that many (0: no limit)
    "max_idle": (N.SMTP_POOL_MAX_IDLE_MS, lambda v: _ms(float(v))),     # seconds idle before it is closed
    "probe_idle": (N.SMTP_POOL_PROBE_IDLE_MS, lambda v: _ms(float(v))),  # seconds idle before a NOOP probe
    "rate": (N.SMTP_POOL_RATE, int),                                      # messages per second at most (0: none)
    "max_connections": (N.SMTP_POOL_MAX_CONNECTIONS, int),
}

# Pool.stats() names -> SMTP_POOL_STAT_*.
POOL_STATS = {
    "opened": N.SMTP_POOL_STAT_OPENED, "open": N.SMTP_POOL_STAT_OPEN, "idle": N.SMTP_POOL_STAT_IDLE,
    "sent": N.SMTP_POOL_STAT_SENT, "retried": N.SMTP_POOL_STAT_RETRIED, "probed": N.SMTP_POOL_STAT_PROBED,
    "probe_failed": N.SMTP_POOL_STAT_PROBE_FAILED, "retired": N.SMTP_POOL_STAT_RETIRED,
    "unknown": N.SMTP_POOL_STAT_UNKNOWN,
}

To = Union[Address, Sequence[Address]]
Refused = Dict[str, Tuple[int, bytes]]


class Pool:
    """At most max_connections connections to host:port (port 0: the kind's
    default; "host:port" and, for LMTP, a Unix socket path as connect()
    takes them), opened on demand like `like` would open them: an
    unconnected SMTP, SMTP_SSL or LMTP whose kind, local hostname, source
    address, proxy, TLS configuration, TLS requirement, auth mechanisms and
    loopback trust are copied now (default: SMTP()). `timeout` bounds each
    wait of a call as SMTP's timeout= does. Options (see set_option):
    starttls, max_messages, max_idle, probe_idle, rate. login=(user,
    password) authenticates each new connection. Safe to share between
    threads; close() (or the with block) frees it."""

    def __init__(self, host: str, port: int = 0, max_connections: int = 4, *, like: Optional[SMTP] = None,
                 timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                 login: Optional[Tuple[str, str]] = None, **options: Any) -> None:
        self._lock = threading.Condition()
        self._idle: List[SMTP] = []
        self._busy = 0
        self._ptr: Optional[int] = None
        self._settings: Dict[str, Tuple[Any, ...]] = {}  # SMTP method -> args, for the call sessions
        self._version = 0
        self._auth: Optional[_AuthBridge] = None
        self._like = like if like is not None else SMTP(local_hostname="localhost")
        self._timeout = timeout
        out = N.c_void_p()
        self._like._call(lambda s: N.lib.smtp_pool_new(s, _text(host, "host"), int(port), int(max_connections),
                                                       byref(out)))
        self._ptr = out.value
        for name, value in options.items():
            self.set_option(name, value)
        if login is not None:
            self.set_login(*login)

    # ---- settings -------------------------------------------------------------

    def _handle(self) -> int:
        if not self._ptr:
            raise ValueError("the pool is closed")
        return self._ptr

    def set_option(self, name: str, value: Union[int, float, bool]) -> None:
        """One of POOL_OPTIONS: starttls (bool), max_messages (per
        connection, 0: no limit), max_idle and probe_idle (seconds), rate
        (messages per second over the pool, 0: no limit), max_connections.
        Applies to the calls that start after it."""
        try:
            which, conv = POOL_OPTIONS[name]
        except KeyError:
            raise ValueError("unknown pool option %r (one of %s)" % (name, ", ".join(POOL_OPTIONS))) from None
        self._check(N.lib.smtp_pool_set_option(self._handle(), which, conv(value)))

    def stats(self) -> Dict[str, int]:
        """The pool's counters (POOL_STATS): opened, open, idle, sent,
        retried, probed, probe_failed, retired, unknown."""
        ptr = self._handle()
        return {name: int(N.lib.smtp_pool_stat(ptr, which)) for name, which in POOL_STATS.items()}

    def set_login(self, user: Optional[str], password: Optional[str] = None, *,
                  initial_response_ok: bool = True, allow_cleartext: bool = False) -> None:
        """Authenticate each new connection as SMTP.login() does; None removes it."""
        flags = _auth_flags(initial_response_ok, allow_cleartext)
        self._check(N.lib.smtp_pool_set_login(self._handle(), _opt_text(user, "user"),
                                              _opt_text(password, "password"), flags))

    def set_auth(self, mechanism: Optional[str], authobject: Optional[AuthObject] = None, *,
                 initial_response_ok: bool = True, allow_cleartext: bool = False) -> None:
        """Authenticate each new connection as SMTP.auth() does; authobject
        may run on several threads at once. None removes it."""
        flags = _auth_flags(initial_response_ok, allow_cleartext)
        if mechanism is None or authobject is None:
            self._check(N.lib.smtp_pool_set_auth_step(self._handle(), None, N.SASL_STEP_FN(), None, 0))
            self._auth = None
            return
        bridge = _AuthBridge(None, authobject)
        self._check(N.lib.smtp_pool_set_auth_step(self._handle(), _text(mechanism.upper(), "mechanism"),
                                                  bridge.fn, None, flags))
        self._auth = bridge  # kept alive while the pool may call it

    def _set(self, method: str, *args: Any) -> None:
        with self._lock:
            self._settings[method] = args
            self._version += 1

    def set_envelope(self, envelope: Optional[Envelope]) -> None:
        """SMTP.set_envelope for every following call of the pool."""
        if envelope is not None:
            envelope._handle()
        self._set("set_envelope", envelope)

    def set_pipelining(self, on: bool = True) -> None:
        """SMTP.set_pipelining for every following call of the pool."""
        self._set("set_pipelining", on)

    def set_chunking(self, on: bool = True) -> None:
        """SMTP.set_chunking for every following call of the pool."""
        self._set("set_chunking", on)

    def set_timeout(self, which: str, seconds: Optional[float]) -> None:
        """SMTP.set_timeout for every following call ("call" bounds all of
        it, the wait for a free connection included)."""
        self._set("set_timeout:" + which, which, seconds)

    def set_debuglevel(self, debuglevel: int) -> None:
        """SMTP.set_debuglevel for every following call."""
        self._set("set_debuglevel", debuglevel)

    def _check(self, rc: int) -> None:
        if rc != N.SMTP_OK:
            raise make_error(rc, N.result_str(rc), 0, b"")

    # ---- the call sessions --------------------------------------------------------

    def _take(self) -> SMTP:
        """A session for one call (an idle one, else a new one), configured."""
        with self._lock:
            self._handle()
            self._busy += 1
            sess = self._idle.pop() if self._idle else None
            version, settings = self._version, list(self._settings.items())
        try:
            if sess is None:
                cls = LMTP if isinstance(self._like, LMTP) else SMTP
                sess = cls(local_hostname=self._like.local_hostname or "localhost", timeout=self._timeout)
                sess._lent = True
                sess._timeout_overrides = dict(self._like._timeout_overrides)
                sess._apply_settings()
                sess._pool_version = -1  # type: ignore[attr-defined]
            if sess._pool_version != version:  # type: ignore[attr-defined]
                for key, args in settings:
                    getattr(sess, key.split(":")[0])(*args)
                sess._pool_version = version  # type: ignore[attr-defined]
            return sess
        except BaseException:
            self._give(sess)
            raise

    def _give(self, sess: Optional[SMTP]) -> None:
        with self._lock:
            self._busy -= 1
            if sess is not None:
                self._idle.append(sess)
            self._lock.notify_all()

    @contextlib.contextmanager
    def _lend(self) -> Iterator[SMTP]:
        sess = self._take()
        try:
            yield sess
        except BaseException:
            self._raise_auth_error()
            raise
        finally:
            self._give(sess)

    def _raise_auth_error(self) -> None:
        """The exception an auth callback raised (which made the call fail
        with SMTPAuthenticationAborted), in its place."""
        auth = self._auth
        if auth is not None and auth.error is not None:
            err, auth.error = auth.error, None
            raise err

    def _on(self, fn: Any) -> Any:
        """fn(pool, session, *args) as fn(session, *args), for SMTP._call."""
        ptr = self._handle()
        return lambda s, *args: fn(ptr, s, *args)

    # ---- calls ---------------------------------------------------------------------

    def _sendmail(self, sess: SMTP, from_addr: Address, to_addrs: To, msg: Message, mail_options: Sequence[str],
                  rcpt_options: Sequence[str], msg_flags: Optional[int]) -> Refused:
        return sess._sendmail_on(self._on(N.lib.smtp_pool_sendmail), from_addr, to_addrs, msg, mail_options,
                                 rcpt_options, msg_flags)

    def sendmail(self, from_addr: Address, to_addrs: To, msg: Message, mail_options: Sequence[str] = (),
                 rcpt_options: Sequence[str] = (), *, msg_flags: Optional[int] = None) -> Refused:
        """SMTP.sendmail on a pooled connection: {refused address: (code,
        message)}; raises as SMTP.sendmail does, and SMTPOutcomeUnknownError
        when the data went out but no reply decided it."""
        with self._lend() as sess:
            return self._sendmail(sess, from_addr, to_addrs, msg, mail_options, rcpt_options, msg_flags)

    def _send_message(self, sess: SMTP, msg: Union[email.message.Message, bytes, str],
                      from_addr: Optional[Address], to_addrs: Optional[To], mail_options: Sequence[str],
                      rcpt_options: Sequence[str], msg_flags: Optional[int]) -> Refused:
        if isinstance(msg, email.message.Message):
            msg = _flatten(msg)
        return sess._send_raw_on(self._on(N.lib.smtp_pool_send_message), msg, from_addr, to_addrs, mail_options,
                                 rcpt_options, msg_flags)

    def send_message(self, msg: Union[email.message.Message, bytes, str], from_addr: Optional[Address] = None,
                     to_addrs: Optional[To] = None, mail_options: Sequence[str] = (),
                     rcpt_options: Sequence[str] = (), *, msg_flags: Optional[int] = None) -> Refused:
        """SMTP.send_message on a pooled connection. An email.message.Message
        is flattened (CRLF line ends; UTF-8 headers when an address field is
        not ASCII) and the library takes the envelope from its headers
        (Bcc removed, SMTPUTF8 when an address needs it) unless given."""
        with self._lend() as sess:
            return self._send_message(sess, msg, from_addr, to_addrs, mail_options, rcpt_options, msg_flags)

    def _sendmail_batch(self, sess: SMTP, messages: Iterable[Tuple[Address, To, Message]],
                        msg_flags: Optional[int]) -> List[BatchResult]:
        return sess._batch_on(self._on(N.lib.smtp_pool_sendmail_batch), messages, msg_flags)

    def sendmail_batch(self, messages: Iterable[Tuple[Address, To, Message]], *,
                       msg_flags: Optional[int] = None) -> List[BatchResult]:
        """SMTP.sendmail_batch on one pooled connection; messages a dying
        connection left unsent go again on a new one."""
        with self._lend() as sess:
            return self._sendmail_batch(sess, messages, msg_flags)

    # ---- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        """Wait for running calls, then close the idle connections (no QUIT)
        and free the pool. Safe to call again."""
        with self._lock:
            while self._busy:
                self._lock.wait()
            ptr, self._ptr = self._ptr, None
            idle, self._idle = self._idle, []
        if ptr:
            N.lib.smtp_pool_free(ptr)
        for sess in idle:
            sess.free()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            ptr, self._ptr = self._ptr, None
            if ptr and not self._busy:
                N.lib.smtp_pool_free(ptr)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return "<libsmtp.Pool %s>" % ("closed" if not self._ptr else "open=%d" % self.stats()["open"])


def _auth_flags(initial_response_ok: bool, allow_cleartext: bool) -> int:
    return (0 if initial_response_ok else N.SMTP_AUTH_NO_INITIAL_RESPONSE) | \
           (N.SMTP_AUTH_ALLOW_CLEARTEXT if allow_cleartext else 0)


def _flatten(msg: email.message.Message) -> bytes:
    """A Message as bytes with CRLF line ends, as smtplib flattens it (UTF-8
    headers when an address field is not ASCII, as smtplib does then)."""
    fields = [str(v) for k in ("From", "Sender", "To", "Cc", "Bcc", "Resent-From", "Resent-Sender", "Resent-To",
                               "Resent-Cc", "Resent-Bcc") for v in (msg.get_all(k) or ())]
    international = any(not f.isascii() for f in fields)
    with io.BytesIO() as out:
        policy = msg.policy.clone(utf8=True) if international else None  # type: ignore[call-arg]
        gen = email.generator.BytesGenerator(out, policy=policy) if policy else email.generator.BytesGenerator(out)
        gen.flatten(msg, linesep="\r\n")
        return out.getvalue()
