"""SMTP, SMTP_SSL and LMTP: smtplib's classes over libsmtp's C API."""
from __future__ import annotations

import copy
import email.generator
import email.message
import email.utils
import errno
import hmac
import io
import os
import socket
import ssl
import stat
import sys
import threading
from typing import (Any, BinaryIO, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple,
                    TypeVar, Union)
from ctypes import byref, c_char, c_char_p, c_int, c_size_t, memmove, string_at

from . import _native as N
from ._errors import (SMTPBadStateError, SMTPConnectError, SMTPConnectFailedError, SMTPHeloError,
                      SMTPNotSupportedError, SMTPResponseException, SMTPServerDisconnected,
                      make_error)
from ._envelope import Envelope
from ._tls import TLSConfig, as_tls_config

# Addresses are str (bytes are taken too); a message is str or bytes.
Address = Union[str, bytes]
Message = Union[str, bytes, bytearray, memoryview]
# sendmail_stream's source: a binary file-like object or chunks of bytes.
Source = Union[BinaryIO, io.RawIOBase, io.BufferedIOBase, Iterable[bytes]]
Reply = Tuple[int, bytes]
# smtplib's authobject: called with None for the initial response (None:
# none), then with each decoded challenge; returns str or bytes.
AuthObject = Callable[..., Union[str, bytes, None]]
_T = TypeVar("_T", bound="SMTP")

SMTP_PORT = 25
SMTP_SSL_PORT = 465
LMTP_PORT = 2003
CRLF = "\r\n"
bCRLF = b"\r\n"

# Line-ending policies for data(), sendmail() and send_message() (msg_flags=).
MSG_NORMALIZE = N.SMTP_MSG_NORMALIZE
MSG_RAW = N.SMTP_MSG_RAW
MSG_REJECT_BARE_EOL = N.SMTP_MSG_REJECT_BARE_EOL

_U32_MAX = 2 ** 32 - 1

# set_timeout()/get_timeout() names -> the SMTP_TIMEOUT_* constants.
_TIMEOUTS = {
    "connect": N.SMTP_TIMEOUT_CONNECT,
    "io": N.SMTP_TIMEOUT_IO,
    "reply": N.SMTP_TIMEOUT_REPLY,
    "greeting": N.SMTP_TIMEOUT_GREETING,
    "mail": N.SMTP_TIMEOUT_MAIL,
    "rcpt": N.SMTP_TIMEOUT_RCPT,
    "data": N.SMTP_TIMEOUT_DATA,
    "data_block": N.SMTP_TIMEOUT_DATA_BLOCK,
    "final_dot": N.SMTP_TIMEOUT_FINAL_DOT,
    "call": N.SMTP_TIMEOUT_CALL,
    "all": N.SMTP_TIMEOUT_ALL,
}
TIMEOUT_NAMES = tuple(_TIMEOUTS)

# The limits on a single wait: what timeout= and "all" set ("call" is not one).
_WAIT_LIMITS = (N.SMTP_TIMEOUT_CONNECT, N.SMTP_TIMEOUT_IO, N.SMTP_TIMEOUT_REPLY, N.SMTP_TIMEOUT_GREETING,
                N.SMTP_TIMEOUT_MAIL, N.SMTP_TIMEOUT_RCPT, N.SMTP_TIMEOUT_DATA, N.SMTP_TIMEOUT_DATA_BLOCK,
                N.SMTP_TIMEOUT_FINAL_DOT)

class RcptResult(NamedTuple):
    """One recipient of the last transaction (SMTP.rcpt_results()).

    address: as given; code/message: the RCPT reply; status: its RFC 3463
    code ("2.1.5") when the server offers ENHANCEDSTATUSCODES, else None;
    refused: bool; data_code/data_message/data_status: on LMTP, the
    recipient's reply after the data (0, b"", None when none was read);
    final_code/final_message/final_status: the reply that decided the
    recipient's fate (the one after the data when there is one, else the
    RCPT reply: what the refused dict of sendmail() holds)."""

    address: str
    code: int
    message: bytes
    status: Optional[str]
    refused: bool
    data_code: int
    data_message: bytes
    data_status: Optional[str]
    final_code: int
    final_message: bytes
    final_status: Optional[str]


class BatchResult(NamedTuple):
    """One message of SMTP.sendmail_batch() (or Pool.sendmail_batch()).

    error: None when the message was sent, else the exception it would have
    raised from sendmail() (not raised; its smtp_code/smtp_error are not
    known for messages after the first failure); rcpt_codes: each
    recipient's reply code in the order given (0 where none was read);
    refused: {address: code} of the recipients refused."""

    error: Optional[Exception]
    rcpt_codes: List[int]
    refused: Dict[str, int]


def _text(value, what):
    """A str (or bytes) bound for a C string: UTF-8, no NUL."""
    if isinstance(value, str):
        data = value.encode("utf-8")  # lone surrogates: UnicodeEncodeError, a ValueError
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise TypeError("%s must be str, not %s" % (what, type(value).__name__))
    if b"\0" in data:
        raise ValueError("%s contains a NUL character" % what)
    return data


def _utf8_bytes(value, what):
    """str (as UTF-8) or a bytes-like object -> bytes; else TypeError
    "<what> str or bytes, not <type>"."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s str or bytes, not %s" % (what, type(value).__name__))


def _opt_text(value, what):
    """None or "" -> NULL (the library's default), else _text()."""
    if value is None or (isinstance(value, (str, bytes, bytearray)) and len(value) == 0):
        return None
    return _text(value, what)


def _strings(seq, what):
    """A sequence of str -> (char *array or None, count)."""
    if isinstance(seq, (str, bytes)):
        raise TypeError("%s must be a sequence of strings, not a single string" % what)
    items = [_text(x, what) for x in (seq or ())]
    if not items:
        return None, 0
    return (c_char_p * len(items))(*items), len(items)


def _message(msg, flags, str_flags):
    """smtplib's handling of a message: str is ASCII with its line endings
    normalised, bytes go as given."""
    if isinstance(msg, str):
        return msg.encode("ascii"), str_flags if flags is None else flags
    if isinstance(msg, (bytes, bytearray, memoryview)):
        return bytes(msg), N.SMTP_MSG_RAW if flags is None else flags
    raise TypeError("msg must be str or bytes, not %s" % type(msg).__name__)


def _timeout_which(which):
    """A set_timeout()/get_timeout() name (case-insensitive) -> SMTP_TIMEOUT_*."""
    try:
        return _TIMEOUTS[which.lower()]
    except (AttributeError, KeyError, TypeError):
        raise ValueError("unknown timeout %r (one of: %s)" % (which, ", ".join(TIMEOUT_NAMES))) from None


def _ms(seconds):
    """A positive number of seconds -> milliseconds for the C API (at least
    1, at most 2**32-1: about 49 days; infinity is clamped too)."""
    ms = seconds * 1000
    return _U32_MAX if ms >= _U32_MAX else max(1, int(round(ms)))


def _decode(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


def _default_local_hostname():
    """smtplib's choice: the FQDN when it has a dot, else [address]."""
    fqdn = socket.getfqdn()
    if "." in fqdn:
        return fqdn
    addr = "127.0.0.1"
    try:
        addr = socket.gethostbyname(socket.gethostname())
    except socket.gaierror:
        pass
    return "[%s]" % addr


def _newline_error(line):
    """smtplib's refusal of CR or LF in a command line (bpo-43124)."""
    shown = line.replace("\n", "\\n").replace("\r", "\\r")
    return ValueError("command and arguments contain prohibited newline characters: %s" % (shown,))


def _has_smtputf8(options):
    return any(isinstance(o, str) and o.lower() == "smtputf8" for o in options or ())


def _check_ascii(texts):
    """smtplib sends commands encoded as ASCII unless SMTPUTF8 is in force:
    text that is not raises UnicodeEncodeError (libsmtp refuses it too,
    with a plain ValueError, and nothing is sent either way)."""
    for t in texts:
        if isinstance(t, str):
            t.encode("ascii")


class _Socket:
    """SMTP.sock: what smtplib users reach for on the socket, backed by the
    session's connection (libsmtp opens and drives the socket itself). The
    descriptor stays the session's: poll it or read its addresses, never
    read, write or close it through another object."""

    def __init__(self, smtp):
        self._smtp = smtp

    def fileno(self):
        """The connection's descriptor (OSError EBADF once it is closed)."""
        smtp = self._smtp
        with smtp._lock:
            fd = N.lib.smtp_session_fileno(smtp._s) if smtp._s else -1
        if fd < 0:
            raise OSError(errno.EBADF, "the connection is closed")
        return fd

    def _peek(self, read):
        # Through a duplicate of the descriptor: closing it leaves the
        # connection alone.
        with socket.socket(fileno=os.dup(self.fileno())) as dup:
            return read(dup)

    def getpeername(self):
        return self._peek(lambda d: d.getpeername())

    def getsockname(self):
        return self._peek(lambda d: d.getsockname())

    @property
    def family(self):
        return self._peek(lambda d: d.family)

    def gettimeout(self):
        """The limit on one read or write, in seconds (None: no limit)."""
        return self._smtp.get_timeout("io")

    def settimeout(self, value):
        """As a socket's settimeout, on this connection: a number bounds
        every single wait (as timeout= does; every reply stays bounded as a
        whole too), None lifts the connect and read/write limits. 0
        (non-blocking) is ValueError. The next connect() applies timeout= again."""
        smtp = self._smtp
        lib = N.lib
        with smtp._lock:
            if value is None:
                for which in (N.SMTP_TIMEOUT_CONNECT, N.SMTP_TIMEOUT_IO):
                    smtp._call(lib.smtp_session_set_timeout_ms, which, 0)
                return
            t = float(value)
            if t == 0:
                raise ValueError("Non-blocking socket (timeout=0) is not supported")
            if t < 0 or t != t:
                raise ValueError("Timeout value out of range")
            smtp._call(lib.smtp_session_set_timeout_ms, N.SMTP_TIMEOUT_ALL, _ms(t))

    def close(self):
        """Close the connection (SMTP.close())."""
        self._smtp.close()

    def __repr__(self):
        try:
            fd = self.fileno()
        except OSError:
            fd = -1
        return "<libsmtp connection fd=%d>" % fd


class _AuthBridge:
    """smtplib's authobject behind an smtp_sasl_step_fn: each response, of
    any length, goes back with smtp_sasl_respond(). Never lets an exception
    reach C: it is kept and re-raised once the call returns. Also the pool's
    auth callback (``smtp`` None), which may run on several threads."""

    def __init__(self, smtp, authobject):
        self.smtp = smtp
        self.authobject = authobject
        self.error = None
        self.fn = N.SASL_STEP_FN(self._callback)

    def _callback(self, userdata, challenge, challenge_len, exchange):
        try:
            if challenge is None:
                value = self.authobject()
                if value is None:
                    return N.SMTP_SASL_NO_INITIAL_RESPONSE
                if self.smtp is not None:
                    self.smtp._auth_challenge_count = 1
            else:
                if self.smtp is not None:
                    self.smtp._auth_challenge_count += 1
                data = string_at(challenge, challenge_len) if challenge_len else b""
                value = self.authobject(data)
                if value is None:
                    raise TypeError("authobject returned None for a challenge")
            value = _utf8_bytes(value, "authobject must return")
            rc = N.lib.smtp_sasl_respond(exchange, value, len(value))
            if rc != N.SMTP_OK:
                raise ValueError("SASL response refused: %s" % N.result_str(rc))
            return N.SMTP_SASL_CONTINUE
        except BaseException as e:  # noqa: BLE001 - nothing may unwind through C
            self.error = e
            return 0


class _Reader:
    """A message source behind an smtp_read_fn: a binary file-like object
    (readinto() or read()) or an iterable of bytes-like chunks. An exception
    (or a str chunk) aborts the message (-1: the library closes the
    connection mid-message so that nothing partial is delivered) and is
    re-raised once the call returns."""

    def __init__(self, source):
        self.error = None
        self._rest = b""
        self._readinto = getattr(source, "readinto", None)
        self._read = getattr(source, "read", None)
        self._iter = None
        if self._readinto is None and self._read is None:
            if isinstance(source, (str, bytes, bytearray, memoryview)):
                raise TypeError("source must be a binary file or an iterable of bytes; "
                                "use sendmail() for a whole message")
            self._iter = iter(source)
        self.fn = N.READ_FN(self._callback)

    def _chunk(self, cap):
        while not self._rest:
            chunk = next(self._iter, None)
            if chunk is None:
                return b""
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError("message chunks must be bytes, not %s" % type(chunk).__name__)
            self._rest = bytes(chunk)
        out, self._rest = self._rest[:cap], self._rest[cap:]
        return out

    def _callback(self, userdata, buf, cap):
        try:
            if self._readinto is not None:
                n = self._readinto(memoryview((c_char * cap).from_address(buf)).cast("B"))
                if n is None:
                    raise BlockingIOError("a non-blocking source has no data ready")
                return int(n)
            data = self._read(cap) if self._read is not None else self._chunk(cap)
            if isinstance(data, str):
                raise TypeError("the source must be opened in binary mode (read() gave str)")
            if data is None:
                raise BlockingIOError("a non-blocking source has no data ready")
            memmove(buf, bytes(data), len(data))
            return len(data)
        except BaseException as e:  # noqa: BLE001 - nothing may unwind through C
            self.error = e
            return -1


def _size_of(source):
    """The bytes left in a regular file (for SIZE=), else -1 (unknown)."""
    try:
        st = os.fstat(source.fileno())
        if stat.S_ISREG(st.st_mode):
            return max(0, st.st_size - source.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return -1


class SMTP:
    """smtplib.SMTP over libsmtp. See smtplib's documentation; the
    differences are listed in bindings/python/README.md."""

    debuglevel = 0
    default_port = SMTP_PORT
    ehlo_msg = "ehlo"
    _kind = N.SMTP_KIND_SMTP
    _s = None
    _free_lock: Any = None  # guards _s against free() while cancel() uses it
    # smtplib's authobjects (auth_plain, ...) read these: set them before auth(mech, s.auth_plain).
    user: str
    password: str
    _depth = 0  # > 0 while a C call on this session runs (callbacks see it)
    _lent = False  # a Pool's call session: the pool lends it connections
    _defer_hostname = False  # libsmtp.aio: the default local_hostname is looked up at connect

    def __init__(self, host: str = "", port: int = 0, local_hostname: Optional[str] = None,
                 timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                 source_address: Optional[Tuple[str, int]] = None) -> None:
        self._lock = threading.RLock()  # serialises calls; held for the whole of each C call
        self._free_lock = threading.Lock()  # never held across a blocking call (see cancel())
        self._timeout_overrides: Dict[int, int] = {}  # SMTP_TIMEOUT_* -> ms, from set_timeout(): re-applied at connect
        self._pending: List[BaseException] = []  # exceptions from the trace callback
        self._trace_fn: Any = None
        self._free = N.lib.smtp_session_free
        self._host = host
        self.timeout = timeout
        self.source_address = source_address
        self._auth_challenge_count = 0
        self._local_hostname: Optional[str] = None
        self._newline_hostname: Optional[str] = None  # a local_hostname with CR or LF, refused when it would be sent
        s = N.lib.smtp_session_new(self._kind)
        if not s:
            raise MemoryError("smtp_session_new failed")
        self._s = s
        self._defaults = {w: N.lib.smtp_session_timeout_ms(s, w) for w in _WAIT_LIMITS}
        self._init_session()
        if local_hostname is not None:
            self.local_hostname = local_hostname
        elif not self._defer_hostname:
            self._set_default_hostname()
        if host:
            code, msg = self.connect(host, port)
            if code != 220:
                self.close()
                raise SMTPConnectError(code, msg)

    def _set_default_hostname(self):
        """smtplib's default local_hostname (a name lookup: libsmtp.aio
        defers it to connect, which runs on a thread)."""
        name = _default_local_hostname()
        try:
            self.local_hostname = name
        except ValueError:  # a name libsmtp refuses: keep its own default
            self._local_hostname = name

    def _init_session(self):
        """Hook for subclasses: settings made before the first connect."""

    # ---- plumbing ----------------------------------------------------------

    def _session(self):
        if not self._s:
            raise SMTPServerDisconnected("the session has been freed")
        return self._s

    def _raise_pending(self):
        if self._pending:
            exc = self._pending.pop(0)
            self._pending.clear()
            raise exc

    def _error(self, rc):
        s = self._s
        errmsg = (N.lib.smtp_session_errmsg(s) or b"").decode("utf-8", "replace")
        code = N.lib.smtp_session_last_reply_code(s)
        text = N.lib.smtp_session_last_reply_text(s) or b""
        recipients = self._refused() if rc == N.SMTP_ERR_RECIPIENTS_REFUSED else None
        # SMTPSenderRefused.sender: the sender the library used (also the
        # one send_message chose from the headers).
        sender = _decode(N.lib.smtp_session_sender(s)) if rc == N.SMTP_ERR_SENDER_REFUSED else None
        return make_error(rc, errmsg, code, text, sender=sender, recipients=recipients)

    def _call(self, fn, *args, callback=None):
        """Call fn(session, *args) under the lock; raise for an error code.
        `callback`: a bridge whose kept exception (from a Python callback
        run by the call) is raised first."""
        with self._lock:
            session = self._session()
            self._depth += 1
            try:
                rc = fn(session, *args)
            finally:
                self._depth -= 1
            if callback is not None and callback.error is not None:
                err, callback.error = callback.error, None
                self._pending.clear()
                raise err
            self._raise_pending()
            if rc != N.SMTP_OK:
                raise self._error(rc)
            return rc

    def _reply_call(self, fn, *args):
        """_call() for functions with an `int *code`: returns (code, message)."""
        code = c_int(0)
        with self._lock:
            self._call(fn, *args, byref(code))
            return code.value, N.lib.smtp_session_last_reply_text(self._s) or b""

    def _last_reply(self):
        return (N.lib.smtp_session_last_reply_code(self._s),
                N.lib.smtp_session_last_reply_text(self._s) or b"")

    def _rcpt_infos(self):
        """The session's recipient records (smtp_session_rcpt_info), one call each."""
        lib, s = N.lib, self._s
        out = []
        for i in range(lib.smtp_session_rcpt_count(s)):
            info = N.RcptInfo()
            if lib.smtp_session_rcpt_info(s, i, byref(info)) == N.SMTP_OK:
                out.append(info)
        return out

    def _refused(self):
        """smtplib's refused dict: each refused recipient with the reply
        that decided its fate (final_code/final_text)."""
        return {_decode(r.addr): (r.final_code, r.final_text or b"") for r in self._rcpt_infos() if r.refused}

    def _apply_settings(self):
        """timeout and source_address, as smtplib applies them at connect;
        then the limits given to set_timeout(), which win."""
        lib = N.lib
        t = self.timeout
        if t is socket._GLOBAL_DEFAULT_TIMEOUT:
            t = socket.getdefaulttimeout()
            if t is None:
                t = socket._GLOBAL_DEFAULT_TIMEOUT
        if t is socket._GLOBAL_DEFAULT_TIMEOUT:  # libsmtp's defaults
            limits = dict(self._defaults)
        elif t is None:  # smtplib: blocking; the deadlines on replies stay
            limits = dict(self._defaults)
            limits[N.SMTP_TIMEOUT_CONNECT] = limits[N.SMTP_TIMEOUT_IO] = 0
        else:  # no single wait (connect, read, write, a whole reply) lasts longer
            t = float(t)
            if t == 0:
                raise ValueError("Non-blocking socket (timeout=0) is not supported")
            if t < 0 or t != t:
                raise ValueError("Timeout value must be non-negative")
            limits = {N.SMTP_TIMEOUT_ALL: _ms(t)}
        limits.update(self._timeout_overrides)
        for which, ms in limits.items():
            self._call(lib.smtp_session_set_timeout_ms, which, ms)
        src = self.source_address
        if src is None:
            self._call(lib.smtp_session_set_source_address, None, 0)
        else:
            host, port = src
            if not host and not port:
                self._call(lib.smtp_session_set_source_address, None, 0)
            else:
                self._call(lib.smtp_session_set_source_address, _text(host or "0.0.0.0", "source host"), int(port))

    # ---- attributes ----------------------------------------------------------

    @property
    def local_hostname(self) -> Optional[str]:
        """The name sent with EHLO/HELO/LHLO when none is given."""
        return self._local_hostname

    @local_hostname.setter
    def local_hostname(self, name: str) -> None:
        if isinstance(name, str) and ("\r" in name or "\n" in name):
            # smtplib takes any name here and refuses it (bpo-43124) when
            # EHLO or HELO would carry it; libsmtp's C API refuses it at
            # once, so the binding keeps it and refuses in _hello_name().
            with self._lock:
                self._newline_hostname = name
                self._local_hostname = name
            return
        self._call(N.lib.smtp_session_set_local_hostname, _text(name, "local_hostname"))
        self._newline_hostname = None
        self._local_hostname = name

    @property
    def does_esmtp(self) -> bool:
        with self._lock:
            return bool(self._s and N.lib.smtp_session_does_esmtp(self._s))

    @property
    def ehlo_resp(self) -> Optional[bytes]:
        with self._lock:
            return N.lib.smtp_session_ehlo_resp(self._s) if self._s else None

    @property
    def helo_resp(self) -> Optional[bytes]:
        with self._lock:
            return N.lib.smtp_session_helo_resp(self._s) if self._s else None

    @property
    def esmtp_features(self) -> Dict[str, str]:
        """{keyword (lower case): parameters}, a new dict on each access."""
        lib = N.lib
        with self._lock:
            s = self._s
            if not s:
                return {}
            out = {}
            for i in range(lib.smtp_session_feature_count(s)):
                name = lib.smtp_session_feature_name(s, i).decode("latin-1")
                out[name] = (lib.smtp_session_feature_params(s, i) or b"").decode("latin-1")
            return out

    @property
    def sock(self) -> Optional[_Socket]:
        """smtplib's sock: None when not connected, else an object with
        fileno(), gettimeout(), settimeout(), getpeername(), getsockname()
        and close(), backed by the session's connection (a new object on
        each access: the object holds no reference the session holds back)."""
        return _Socket(self) if self.connected else None

    @property
    def command_encoding(self) -> str:
        """smtplib's command_encoding: "utf-8" from a MAIL with SMTPUTF8
        until RSET, else "ascii" (read-only)."""
        with self._lock:
            return "utf-8" if self._s and N.lib.smtp_session_utf8_commands(self._s) else "ascii"

    @property
    def connected(self) -> bool:
        """True while connected (smtplib: ``sock is not None``)."""
        with self._lock:
            return bool(self._s and N.lib.smtp_session_is_connected(self._s))

    @property
    def is_encrypted(self) -> bool:
        """True when the current connection is TLS."""
        with self._lock:
            return bool(self._s and N.lib.smtp_session_is_encrypted(self._s))

    @property
    def tls_version(self) -> Optional[str]:
        """"TLSv1.3", "TLSv1.2", or None when not TLS."""
        with self._lock:
            return _decode(N.lib.smtp_session_tls_version(self._s)) if self._s else None

    @property
    def tls_cipher(self) -> Optional[str]:
        """The IANA name of the TLS cipher suite, or None when not TLS."""
        with self._lock:
            return _decode(N.lib.smtp_session_tls_cipher(self._s)) if self._s else None

    @property
    def last_reply(self) -> Reply:
        """(code, message) of the reply behind the last result."""
        with self._lock:
            return self._last_reply() if self._s else (0, b"")

    def rcpt_results(self) -> List[RcptResult]:
        """Per-recipient results of the last transaction (a list of RcptResult)."""
        with self._lock:
            self._session()
            return [RcptResult(_decode(r.addr), r.code, r.text or b"", _decode(r.status), bool(r.refused),
                               r.data_code, r.data_text or b"", _decode(r.data_status), r.final_code,
                               r.final_text or b"", _decode(r.final_status))
                    for r in self._rcpt_infos()]

    @property
    def sender(self) -> Optional[str]:
        """The reverse-path of the last transaction (the sender given, or
        the one send_message chose from the headers; "" the null
        reverse-path); None before any."""
        with self._lock:
            return _decode(N.lib.smtp_session_sender(self._s)) if self._s else None

    # ---- settings beyond smtplib ----------------------------------------------

    def set_debuglevel(self, debuglevel: int) -> None:
        """0 quiet, 1 every command and reply, 2 with timestamps, to
        sys.stderr as smtplib prints them (AUTH payloads redacted)."""
        self.debuglevel = debuglevel
        level = int(debuglevel)
        if level > 0 and self._trace_fn is None:
            pending = self._pending

            def trace(userdata, direction, line, length):
                try:
                    out = sys.stderr
                    if out is not None:
                        print(string_at(line, length).decode("utf-8", "replace"), file=out)
                except BaseException as e:  # noqa: BLE001 - nothing may unwind through C
                    pending.append(e)
            fn = N.TRACE_FN(trace)
            self._call(N.lib.smtp_session_set_trace, fn, None)
            self._trace_fn = fn  # kept alive as long as the session may call it
        self._call(N.lib.smtp_session_set_debuglevel, max(0, level))

    def set_auth_mechanisms(self, mechanisms: Union[str, Sequence[str], None]) -> None:
        """The mechanisms login() tries, in order (None: smtplib's CRAM-MD5,
        PLAIN, LOGIN). Built-in names: CRAM-MD5 PLAIN LOGIN SCRAM-SHA-256
        XOAUTH2 OAUTHBEARER (the password is the token for the last two)."""
        if mechanisms is None:
            self._call(N.lib.smtp_session_set_auth_mechanisms, None)
            return
        if isinstance(mechanisms, str):
            mechanisms = mechanisms.split()
        self._call(N.lib.smtp_session_set_auth_mechanisms, _text(" ".join(mechanisms), "mechanisms"))

    def set_require_tls(self, on: bool = True) -> None:
        """sendmail, send_message, login and auth refuse to run unless the
        connection is TLS (SMTPNotEncryptedError)."""
        self._call(N.lib.smtp_session_set_require_tls, 1 if on else 0)

    def set_trust_loopback(self, trust: bool) -> None:
        """Whether loopback counts as protecting secrets for the cleartext rule (default True)."""
        self._call(N.lib.smtp_session_set_trust_loopback, 1 if trust else 0)

    def set_timeout(self, which: str, seconds: Optional[float]) -> None:
        """Set one of libsmtp's limits, in seconds (None: no limit). which is
        one of TIMEOUT_NAMES: "connect", "io", "reply", "greeting", "mail",
        "rcpt", "data", "data_block", "final_dot", "call" (the whole of one
        call), or "all" (every limit but "call", as timeout= sets them);
        anything else is ValueError, as is a seconds of 0 or less.

        Applies from the next call, on the current connection too, and is
        kept: connect() applies timeout= first, then these limits."""
        w = _timeout_which(which)
        if seconds is None:
            ms = 0
        else:
            t = float(seconds)
            if not t > 0:  # 0, negative, NaN
                raise ValueError("timeout must be a positive number of seconds or None, not %r" % (seconds,))
            ms = _ms(t)
        with self._lock:
            self._call(N.lib.smtp_session_set_timeout_ms, w, ms)
            for limit in (_WAIT_LIMITS if w == N.SMTP_TIMEOUT_ALL else (w,)):
                self._timeout_overrides[limit] = ms

    def get_timeout(self, which: str) -> Optional[float]:
        """One of libsmtp's limits in seconds (float), None when unlimited.
        "all" gives the longest single wait the limits allow (None when one
        of them is unlimited). Names as set_timeout(); else ValueError."""
        w = _timeout_which(which)
        with self._lock:
            ms = N.lib.smtp_session_timeout_ms(self._session(), w)
        if ms < 0:
            raise ValueError("unknown timeout %r" % (which,))
        return None if ms == 0 else ms / 1000

    def cancel(self) -> None:
        """End the call running on this object in another thread (connect,
        a command, sendmail, ...): it raises SMTPCancelledError within 100 ms
        and the connection is closed (connect() again to go on). Callable
        from any thread at any time; it never waits for the running call.
        When no call runs it does nothing (it does not cancel the next
        call), and on a freed object it does nothing either."""
        # Not self._lock: the blocked call holds it. _free_lock only keeps
        # free() from releasing the session while the C function runs.
        lock = self._free_lock
        if lock is None:
            return
        with lock:
            s = self._s
            if s:
                N.lib.smtp_session_cancel(s)

    def set_pipelining(self, on: bool = True) -> None:
        """False: sendmail and send_message wait for each reply even when
        the server offers PIPELINING (RFC 2920); True (the default) sends
        MAIL, every RCPT and DATA in one write. The results are the same."""
        self._call(N.lib.smtp_session_set_pipelining, 1 if on else 0)

    def set_chunking(self, on: bool = True) -> None:
        """False: messages go by DATA even when the server offers CHUNKING
        (RFC 3030); True (the default) sends BDAT chunks then. The bytes
        delivered are the same."""
        self._call(N.lib.smtp_session_set_chunking, 1 if on else 0)

    def set_envelope(self, envelope: Optional[Envelope]) -> None:
        """Use envelope's options (copied now) for every following sendmail
        and send_message; None removes them."""
        self._call(N.lib.smtp_session_set_envelope, None if envelope is None else envelope._handle())

    def set_proxy(self, url: Optional[str]) -> None:
        """Connect through a proxy from the next connect on:
        socks5://[user:password@]host[:port], socks5h://... (the proxy
        resolves the name) or http://[user:password@]host[:port] (HTTP
        CONNECT); None or "" connects directly. TLS runs end to end."""
        self._call(N.lib.smtp_session_set_proxy, _opt_text(url, "url"))

    def set_debug_secrets(self, show: bool) -> None:
        """Show AUTH payloads in the debug output instead of <redacted>
        (for test servers only: the output then holds passwords)."""
        self._call(N.lib.smtp_session_set_debug_secrets, 1 if show else 0)

    def connect_fd(self, sock: Union[socket.socket, int], host: Optional[str] = None) -> Tuple[int, bytes]:
        """Run the session over a stream socket the caller connected (TCP
        or Unix-domain; a socket.socket or a descriptor) and read the
        greeting: (code, message). The socket belongs to the session from
        the call on, whatever the result (a socket.socket is detached).
        host: the server's name, which TLS checks the certificate against
        (SMTP_SSL's handshake comes first; a later starttls())."""
        if isinstance(sock, socket.socket):
            fd = sock.detach()
        elif isinstance(sock, int) and not isinstance(sock, bool):
            fd = sock
        else:
            raise TypeError("sock must be a socket.socket or a descriptor, not %s" % type(sock).__name__)
        if host:
            self._host = host
        with self._lock:
            if self._local_hostname is None and self._defer_hostname:
                self._set_default_hostname()
            self._apply_settings()
            return self._reply_call(N.lib.smtp_session_connect_fd, fd, _opt_text(host, "host"))

    # ---- smtplib's methods ---------------------------------------------------

    def connect(self, host: str = "localhost", port: int = 0,
                source_address: Optional[Tuple[str, int]] = None) -> Reply:
        """Connect and read the greeting: (code, message). A 'host:port'
        host with port 0 is split; a host starting with '/' is a Unix socket."""
        if source_address:
            self.source_address = source_address
        if not host:
            raise ValueError("empty host")
        try:
            port = int(port)
        except ValueError:
            # smtplib: OSError("nonnumeric port"), as for "host:bogus" (the library's)
            raise SMTPConnectFailedError("nonnumeric port") from None
        if not 0 <= port <= 65535:
            raise OverflowError("port must be 0-65535.")
        sys.audit("smtplib.connect", self, host, port)
        self._host = host
        with self._lock:
            if self._local_hostname is None and self._defer_hostname:
                self._set_default_hostname()
            self._apply_settings()
            return self._reply_call(N.lib.smtp_session_connect, _text(host, "host"), port)

    def _hello_name(self, verb, name):
        """A local_hostname with CR or LF is refused as smtplib's putcmd
        refuses it, before anything is sent."""
        if not name and self._newline_hostname is not None:
            raise _newline_error("%s %s" % (verb, self._newline_hostname))
        return _opt_text(name, "name")

    def helo(self, name: str = "") -> Reply:
        return self._reply_call(N.lib.smtp_session_helo, self._hello_name("helo", name))

    def ehlo(self, name: str = "") -> Reply:
        return self._reply_call(N.lib.smtp_session_ehlo, self._hello_name(self.ehlo_msg, name))

    def ehlo_or_helo_if_needed(self) -> None:
        """smtplib's: EHLO, then HELO if EHLO was refused, unless one of
        them was done (through self.ehlo and self.helo, as smtplib)."""
        if self.helo_resp is None and self.ehlo_resp is None:
            if not (200 <= self.ehlo()[0] <= 299):
                code, resp = self.helo()
                if not (200 <= code <= 299):
                    raise SMTPHeloError(code, resp)

    def _hello_first(self):
        """Calls that say EHLO themselves when needed (sendmail, login, ...)
        do it here first while local_hostname has a line break, so that it
        is refused as smtplib refuses it."""
        if self._newline_hostname is not None:
            self.ehlo_or_helo_if_needed()

    # ---- smtplib's low-level methods --------------------------------------------

    def send(self, s: Union[str, bytes]) -> None:
        """smtplib's send: write s (str, encoded as command_encoding, or
        bytes) as it is, no reply read. Bounded by the I/O limit."""
        if self.sock is None:
            raise SMTPServerDisconnected("please run connect() first")
        if isinstance(s, str):
            s = s.encode(self.command_encoding)
        elif isinstance(s, (bytes, bytearray, memoryview)):
            s = bytes(s)
        else:
            raise TypeError("send() takes str or bytes, not %s" % type(s).__name__)
        sys.audit("smtplib.send", self, s)
        self._call(N.lib.smtp_session_send, s, len(s))

    def putcmd(self, cmd: str, args: str = "") -> None:
        """smtplib's putcmd: send 'cmd args' and CRLF; CR or LF in them is
        ValueError (bpo-43124), nothing sent."""
        s = cmd if args == "" else "%s %s" % (cmd, args)
        if "\r" in s or "\n" in s:
            raise _newline_error(s)
        self.send("%s%s" % (s, CRLF))

    def getreply(self) -> Reply:
        """smtplib's getreply: read one reply, (code, message). Bounded by
        the reply limit; a failure closes the connection."""
        return self._reply_call(N.lib.smtp_session_getreply)

    def has_extn(self, opt: str) -> bool:
        with self._lock:
            return N.lib.smtp_session_has_extn(self._session(), _text(opt, "opt")) == 1

    def docmd(self, cmd: str, args: str = "") -> Reply:
        return self._reply_call(N.lib.smtp_session_docmd, _text(cmd, "cmd"), _opt_text(args, "args"))

    def noop(self) -> Reply:
        return self._reply_call(N.lib.smtp_session_noop)

    def rset(self) -> Reply:
        return self._reply_call(N.lib.smtp_session_rset)

    def help(self, args: str = "") -> bytes:
        return self._reply_call(N.lib.smtp_session_help, _opt_text(args, "args"))[1]

    def verify(self, address: str) -> Reply:
        return self._reply_call(N.lib.smtp_session_verify, _text(address, "address"))

    vrfy = verify

    def expn(self, address: str) -> Reply:
        return self._reply_call(N.lib.smtp_session_expn, _text(address, "address"))

    def mail(self, sender: Address, options: Sequence[str] = ()) -> Reply:
        opts, n = _strings(options, "options")
        if not (options and self.does_esmtp and _has_smtputf8(options)) and self.command_encoding == "ascii":
            _check_ascii([sender, *(options if self.does_esmtp else ())])
        return self._reply_call(N.lib.smtp_session_mail, _text(sender, "sender"), opts, n)

    def rcpt(self, recip: Address, options: Sequence[str] = ()) -> Reply:
        opts, n = _strings(options, "options")
        if self.command_encoding == "ascii":
            _check_ascii([recip, *(options if self.does_esmtp else ())])
        return self._reply_call(N.lib.smtp_session_rcpt, _text(recip, "recip"), opts, n)

    def data(self, msg: Message, *, msg_flags: Optional[int] = None) -> Reply:
        body, flags = _message(msg, msg_flags, N.SMTP_MSG_NORMALIZE)
        return self._reply_call(N.lib.smtp_session_data, body, len(body), flags)

    def _envelope_args(self, from_addr, to_addrs, mail_options, rcpt_options):
        """sendmail()'s checks and C arrays: (from, to, n_to, mail opts,
        n, rcpt opts, n), after EHLO for a local_hostname smtplib refuses."""
        if isinstance(to_addrs, (str, bytes)):
            to_addrs = [to_addrs]
        frm = _text(from_addr, "from_addr")
        to, n_to = _strings(to_addrs, "to_addrs")
        mo, n_mo = _strings(mail_options, "mail_options")
        ro, n_ro = _strings(rcpt_options, "rcpt_options")
        if not self._lent:
            self._hello_first()
            if not _has_smtputf8(mail_options) and self.command_encoding == "ascii":
                _check_ascii([from_addr, *to_addrs])
        return frm, to, n_to, mo, n_mo, ro, n_ro

    def _sendmail_on(self, fn, from_addr, to_addrs, msg, mail_options, rcpt_options, msg_flags):
        """sendmail() through fn(session, <smtp_session_sendmail's arguments>)."""
        frm, to, n_to, mo, n_mo, ro, n_ro = self._envelope_args(from_addr, to_addrs, mail_options, rcpt_options)
        body, flags = _message(msg, msg_flags, N.SMTP_MSG_NORMALIZE)
        codes = (c_int * max(1, n_to))()
        refused = c_size_t(0)
        with self._lock:
            self._call(fn, frm, to, n_to, body, len(body), mo, n_mo, ro, n_ro, flags, codes, byref(refused))
            return self._refused()

    def sendmail(self, from_addr: Address, to_addrs: Union[Address, Sequence[Address]], msg: Message,
                 mail_options: Sequence[str] = (), rcpt_options: Sequence[str] = (), *,
                 msg_flags: Optional[int] = None) -> Dict[str, Tuple[int, bytes]]:
        """MAIL, RCPT for each recipient, DATA; returns {refused address:
        (code, message)}. Raises as smtplib does."""
        return self._sendmail_on(N.lib.smtp_session_sendmail, from_addr, to_addrs, msg, mail_options,
                                 rcpt_options, msg_flags)

    def _stream_on(self, fn, from_addr, to_addrs, source, size, mail_options, rcpt_options, msg_flags):
        frm, to, n_to, mo, n_mo, ro, n_ro = self._envelope_args(from_addr, to_addrs, mail_options, rcpt_options)
        reader = _Reader(source)
        if size is None:
            size = _size_of(source)
        flags = N.SMTP_MSG_RAW if msg_flags is None else msg_flags
        codes = (c_int * max(1, n_to))()
        refused = c_size_t(0)
        with self._lock:
            try:
                self._call(fn, frm, to, n_to, reader.fn, None, int(size), mo, n_mo, ro, n_ro, flags, codes,
                           byref(refused), callback=reader)
            finally:
                reader.fn = None  # used only during the call
            return self._refused()

    def sendmail_stream(self, from_addr: Address, to_addrs: Union[Address, Sequence[Address]],
                        source: Source, mail_options: Sequence[str] = (), rcpt_options: Sequence[str] = (),
                        *, size: Optional[int] = None, msg_flags: Optional[int] = None
                        ) -> Dict[str, Tuple[int, bytes]]:
        """sendmail() with the message read in pieces from `source`: a
        binary file-like object (readinto() or read(n)) or an iterable of
        bytes chunks, so that a message larger than memory goes out without
        a copy. `size` (announced as SIZE=) defaults to what is left of a
        regular file, else unknown. Line endings go as read (MSG_RAW) unless
        msg_flags says otherwise. An exception raised by the source aborts
        the message (the connection is closed mid-message, so nothing
        partial is delivered) and is re-raised."""
        return self._stream_on(N.lib.smtp_session_sendmail_stream, from_addr, to_addrs, source, size,
                               mail_options, rcpt_options, msg_flags)

    def _batch_on(self, fn, messages, msg_flags):
        items = []
        for m in messages:
            try:
                from_addr, to_addrs, msg = m
            except (TypeError, ValueError):
                raise TypeError("each message is a (from_addr, to_addrs, msg) tuple") from None
            if isinstance(to_addrs, (str, bytes)):
                to_addrs = [to_addrs]
            items.append((from_addr, list(to_addrs), msg))
        if not items:
            return []
        arr = (N.BatchItem * len(items))()
        keep = []
        for item, (from_addr, to_addrs, msg) in zip(arr, items):
            frm, to, n_to, _, _, _, _ = self._envelope_args(from_addr, to_addrs, (), ())
            body, flags = _message(msg, msg_flags, N.SMTP_MSG_NORMALIZE)
            codes = (c_int * max(1, n_to))()
            keep.append(codes)
            item.from_, item.to, item.to_count = frm, to, n_to
            item.msg, item.len, item.flags = body, len(body), flags
            item.result = -1  # untouched: the call refused its arguments
            item.rcpt_codes = codes
        with self._lock:
            session = self._session()
            self._depth += 1
            try:
                rc = fn(session, arr, len(items))
            finally:
                self._depth -= 1
            self._raise_pending()
            if rc != N.SMTP_OK and all(item.result == -1 for item in arr):
                raise self._error(rc)
            errmsg = (N.lib.smtp_session_errmsg(session) or b"").decode("utf-8", "replace")
            out = []
            first = True
            for item, codes, (_, to_addrs, _) in zip(arr, keep, items):
                rcpt = [codes[i] for i in range(len(to_addrs))]
                refused = {_decode(_text(a, "to_addrs")): c for a, c in zip(to_addrs, rcpt) if not 200 <= c <= 299}
                error = None
                if item.result != N.SMTP_OK:
                    why = errmsg if first and item.result == rc else N.result_str(item.result)
                    first = False
                    error = make_error(item.result, why, 0, b"",
                                       recipients={a: (c, b"") for a, c in refused.items()})
                out.append(BatchResult(error, rcpt, refused))
            return out

    def sendmail_batch(self, messages: Iterable[Tuple[Address, Union[Address, Sequence[Address]], Message]],
                       *, msg_flags: Optional[int] = None) -> List[BatchResult]:
        """Send several (from_addr, to_addrs, msg) messages on this
        connection, pipelined when the server allows (one round trip per
        message; with CHUNKING, up to 32 in flight). Returns one BatchResult
        per message, in order; a message that failed does not stop the
        others and is not raised (its exception is BatchResult.error). Raises
        only when nothing was sent (arguments refused, not connected...).
        rcpt_results() describes the last message afterwards."""
        return self._batch_on(N.lib.smtp_session_sendmail_batch, messages, msg_flags)

    def _send_raw_on(self, fn, msg, from_addr, to_addrs, mail_options, rcpt_options, msg_flags):
        """send_message() of a raw message through fn(session, <smtp_session_send_message's arguments>)."""
        body = _utf8_bytes(msg, "msg must be an email.message.Message,")
        flags = N.SMTP_MSG_NORMALIZE if msg_flags is None else msg_flags
        frm = None if from_addr is None else _text(from_addr, "from_addr")
        if isinstance(to_addrs, (str, bytes)):
            to_addrs = [to_addrs]
        if to_addrs is None:
            to, n_to = None, 0
        else:
            to, n_to = _strings(to_addrs, "to_addrs")
            if n_to == 0:
                raise ValueError("to_addrs is empty")
        mo, n_mo = _strings(mail_options, "mail_options")
        ro, n_ro = _strings(rcpt_options, "rcpt_options")
        refused = c_size_t(0)
        if not self._lent:
            self._hello_first()
        with self._lock:
            self._call(fn, body, len(body), frm, to, n_to, mo, n_mo, ro, n_ro, flags, byref(refused))
            return self._refused()

    def send_message(self, msg: Union[email.message.Message, bytes, str], from_addr: Optional[Address] = None,
                     to_addrs: Union[Address, Sequence[Address], None] = None,
                     mail_options: Sequence[str] = (), rcpt_options: Sequence[str] = (), *,
                     msg_flags: Optional[int] = None) -> Dict[str, Tuple[int, bytes]]:
        """smtplib's send_message. An email.message.Message goes as smtplib
        sends it: the envelope from its headers unless given, Bcc and
        Resent-Bcc removed, flattened with CRLF line ends (SMTPUTF8 and
        BODY=8BITMIME when an address is not ASCII), then self.sendmail().
        libsmtp also takes a whole RFC 5322 message as bytes or str: the
        library finds the envelope and removes Bcc; its line endings are
        normalised unless msg_flags says otherwise."""
        if isinstance(msg, email.message.Message):
            return self._send_message_object(msg, from_addr, to_addrs, mail_options, rcpt_options, msg_flags)
        return self._send_raw_on(N.lib.smtp_session_send_message, msg, from_addr, to_addrs, mail_options,
                                 rcpt_options, msg_flags)

    def _send_message_object(self, msg, from_addr, to_addrs, mail_options, rcpt_options, msg_flags):
        """smtplib's send_message for a Message, line for line."""
        self.ehlo_or_helo_if_needed()
        resent = msg.get_all("Resent-Date")
        if resent is None:
            header_prefix = ""
        elif len(resent) == 1:
            header_prefix = "Resent-"
        else:
            raise ValueError("message has more than one 'Resent-' header block")
        if from_addr is None:
            # Prefer the sender field per RFC 2822:3.6.2.
            from_addr = (msg[header_prefix + "Sender"] if (header_prefix + "Sender") in msg
                         else msg[header_prefix + "From"])
            from_addr = email.utils.getaddresses([from_addr])[0][1]
        if to_addrs is None:
            addr_fields = [f for f in (msg[header_prefix + "To"], msg[header_prefix + "Bcc"],
                                       msg[header_prefix + "Cc"]) if f is not None]
            to_addrs = [a[1] for a in email.utils.getaddresses(addr_fields)]
        msg_copy = copy.copy(msg)
        del msg_copy["Bcc"]
        del msg_copy["Resent-Bcc"]
        international = False
        try:
            "".join([from_addr, *to_addrs]).encode("ascii")
        except UnicodeEncodeError:
            if not self.has_extn("smtputf8"):
                raise SMTPNotSupportedError(
                    "One or more source or delivery addresses require internationalized email support, but "
                    "the server does not advertise the required SMTPUTF8 capability") from None
            international = True
        with io.BytesIO() as bytesmsg:
            if international:
                g = email.generator.BytesGenerator(bytesmsg, policy=msg.policy.clone(utf8=True))
                mail_options = (*mail_options, "SMTPUTF8", "BODY=8BITMIME")
            else:
                g = email.generator.BytesGenerator(bytesmsg)
            g.flatten(msg_copy, linesep="\r\n")
            flatmsg = bytesmsg.getvalue()
        if msg_flags is None:
            return self.sendmail(from_addr, to_addrs, flatmsg, mail_options, rcpt_options)
        return self.sendmail(from_addr, to_addrs, flatmsg, mail_options, rcpt_options, msg_flags=msg_flags)

    def login(self, user: str, password: str, *, initial_response_ok: bool = True,
              allow_cleartext: bool = False) -> Reply:
        """smtplib's login (CRAM-MD5, then PLAIN, then LOGIN, as advertised);
        returns the (code, message) of the accepted AUTH. PLAIN and LOGIN run
        only over TLS, a Unix socket or loopback unless allow_cleartext."""
        flags = (0 if initial_response_ok else N.SMTP_AUTH_NO_INITIAL_RESPONSE) | \
                (N.SMTP_AUTH_ALLOW_CLEARTEXT if allow_cleartext else 0)
        self._hello_first()
        with self._lock:
            self._call(N.lib.smtp_session_login, _text(user, "user"), _text(password, "password"), flags)
            return self._last_reply()

    def auth(self, mechanism: str, authobject: AuthObject, *, initial_response_ok: bool = True,
             allow_cleartext: bool = False) -> Reply:
        """smtplib's auth: authobject(challenge=None) gives the initial
        response (None: none), authobject(challenge) answers each challenge
        (decoded bytes) with str or bytes; libsmtp does the base64. An
        exception in authobject cancels the exchange ('*') and is re-raised."""
        mechanism = mechanism.upper() if isinstance(mechanism, str) else mechanism
        mech = _text(mechanism, "mechanism")
        flags = (0 if initial_response_ok else N.SMTP_AUTH_NO_INITIAL_RESPONSE) | \
                (N.SMTP_AUTH_ALLOW_CLEARTEXT if allow_cleartext else 0)
        bridge = _AuthBridge(self, authobject)
        self._hello_first()
        with self._lock:
            self._auth_challenge_count = 0
            try:
                self._call(N.lib.smtp_session_auth_step, mech, bridge.fn, None, flags, callback=bridge)
            finally:
                bridge.fn = None  # the callback is used only during the call
            return self._last_reply()

    def auth_cram_md5(self, challenge: Optional[bytes] = None) -> Optional[str]:
        """smtplib's CRAM-MD5 authobject (uses self.user and self.password)."""
        if challenge is None:
            return None
        return self.user + " " + hmac.HMAC(self.password.encode("ascii"), challenge, "md5").hexdigest()

    def auth_plain(self, challenge: Optional[bytes] = None) -> str:
        """smtplib's PLAIN authobject (uses self.user and self.password)."""
        return "\0%s\0%s" % (self.user, self.password)

    def auth_login(self, challenge: Optional[bytes] = None) -> str:
        """smtplib's LOGIN authobject (uses self.user and self.password)."""
        if challenge is None or self._auth_challenge_count < 2:
            return self.user
        return self.password

    def starttls(self, keyfile: Optional[str] = None, certfile: Optional[str] = None,
                 context: Union[TLSConfig, ssl.SSLContext, None] = None) -> Reply:
        """STARTTLS and the handshake, verified by default. context: a
        libsmtp.TLSConfig, an ssl.SSLContext (translated) or None."""
        if context is not None and keyfile is not None:
            raise ValueError("context and keyfile arguments are mutually exclusive")
        if context is not None and certfile is not None:
            raise ValueError("context and certfile arguments are mutually exclusive")
        if keyfile is not None or certfile is not None:
            config = TLSConfig(certfile=certfile, keyfile=keyfile)
        else:
            config = as_tls_config(context)
        self._hello_first()
        return self._reply_call(N.lib.smtp_session_starttls, config._handle() if config else None)

    def quit(self) -> Reply:
        """QUIT, forget the EHLO state, close: (code, message)."""
        return self._reply_call(N.lib.smtp_session_quit)

    def close(self) -> None:
        """Drop the connection without QUIT (the session stays usable for a
        new connect). Safe to call any number of times."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            if self._s:
                N.lib.smtp_session_close(self._s)

    def free(self) -> None:
        """Close and release the native session now (else the garbage
        collector does). The object is unusable afterwards."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            if self._depth:
                raise SMTPBadStateError("free() from inside one of the session's callbacks")
            with self._free_lock:  # waits for a cancel() using the session
                s, self._s = self._s, None
            if s:
                self._free(s)

    def __del__(self):
        try:
            s, self._s = self._s, None
            if s:
                self._free(s)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *args: object) -> None:
        try:
            code, message = self.quit()
            if code != 221:
                raise SMTPResponseException(code, message)
        except SMTPServerDisconnected:
            pass
        finally:
            self.close()

    def __repr__(self) -> str:
        return "<%s.%s %s>" % (type(self).__module__, type(self).__qualname__,
                               "connected" if self.connected else "not connected")


class SMTP_SSL(SMTP):
    """smtplib.SMTP_SSL: TLS from the first byte, verified against the host
    given to connect. context: a libsmtp.TLSConfig, an ssl.SSLContext
    (translated) or None (Mozilla roots, verification on)."""

    default_port = SMTP_SSL_PORT
    _kind = N.SMTP_KIND_SMTP_SSL

    def __init__(self, host: str = "", port: int = 0, local_hostname: Optional[str] = None,
                 keyfile: Optional[str] = None, certfile: Optional[str] = None,
                 timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                 source_address: Optional[Tuple[str, int]] = None,
                 context: Union[TLSConfig, ssl.SSLContext, None] = None) -> None:
        if context is not None and keyfile is not None:
            raise ValueError("context and keyfile arguments are mutually exclusive")
        if context is not None and certfile is not None:
            raise ValueError("context and certfile arguments are mutually exclusive")
        self.keyfile = keyfile
        self.certfile = certfile
        self.context = context
        if keyfile is not None or certfile is not None:
            self._tls_config = TLSConfig(certfile=certfile, keyfile=keyfile)
        else:
            self._tls_config = as_tls_config(context)
        super().__init__(host, port, local_hostname, timeout, source_address)

    def _init_session(self):
        if self._tls_config is not None:
            self._call(N.lib.smtp_session_set_tls_config, self._tls_config._handle())


class LMTP(SMTP):
    """smtplib.LMTP (RFC 2033): LHLO instead of EHLO, a host starting with
    '/' is a Unix socket, and one reply per accepted recipient after the data."""

    ehlo_msg = "lhlo"
    default_port = LMTP_PORT
    _kind = N.SMTP_KIND_LMTP

    def __init__(self, host: str = "", port: int = LMTP_PORT, local_hostname: Optional[str] = None,
                 source_address: Optional[Tuple[str, int]] = None,
                 timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT) -> None:  # type: ignore[attr-defined]
        super().__init__(host, port, local_hostname=local_hostname, source_address=source_address,
                         timeout=timeout)

    def connect(self, host: str = "localhost", port: int = 0,
                source_address: Optional[Tuple[str, int]] = None) -> Reply:
        return super().connect(host, port, source_address=source_address)
