"""libsmtp for asyncio: SMTP, SMTP_SSL, LMTP and Pool whose blocking
methods are coroutines mirroring the synchronous ones.

    import libsmtp.aio

    async with libsmtp.aio.SMTP("mail.example.com", 587) as s:
        await s.starttls()
        await s.login("alice", "secret")
        await s.sendmail("alice@example.com", ["bob@example.com"], msg)

How: each call runs the synchronous method on a thread of its own (so the
event loop keeps running, and any number of sessions can wait at once);
the coroutine awaits its result. Cancelling the task (task.cancel(),
asyncio.wait_for, asyncio.timeout) calls smtp_session_cancel on the
session: the call ends within 100 ms with the connection closed, and
CancelledError propagates once the thread has left the library (so the
session is free again when it does).

A session runs one call at a time: calls made while one runs QUEUE (an
asyncio.Lock, first come first served; cancelling a queued call only
removes it from the queue). Getters and setters (connected, set_timeout,
...) are plain attributes and methods; while a call runs they raise
SMTPBadStateError instead of blocking the loop. ``.sync`` is the
underlying libsmtp.SMTP.
"""
from __future__ import annotations

import asyncio
import email.message
import socket
import ssl
import threading
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Type, TypeVar,
                    Union)

from . import _client, _pool
from ._client import Address, AuthObject, BatchResult, Message, RcptResult, Reply, Source
from ._envelope import Envelope
from ._errors import SMTPBadStateError, SMTPConnectError, SMTPResponseException, SMTPServerDisconnected
from ._tls import TLSConfig

__all__ = ["SMTP", "SMTP_SSL", "LMTP", "Pool"]

_R = TypeVar("_R")
_S = TypeVar("_S", bound="SMTP")
To = Union[Address, Sequence[Address]]
Refused = Dict[str, Tuple[int, bytes]]
_DEFAULT: Any = socket._GLOBAL_DEFAULT_TIMEOUT  # type: ignore[attr-defined]

# How often a cancelled call is cancelled again until its thread is out of
# the library: smtp_session_cancel only ends a call that is running, and the
# thread may not have entered it yet when the task is cancelled.
_RECANCEL_S = 0.01


_DEFERRED: Dict[type, type] = {}


def _deferred(cls: Type[_client.SMTP]) -> Type[_client.SMTP]:
    """cls whose default local_hostname (a name lookup, as smtplib's) is
    found at connect, on the call's thread, not in the constructor on the loop."""
    if cls not in _DEFERRED:
        _DEFERRED[cls] = type(cls.__name__, (cls,), {"_defer_hostname": True, "__module__": "libsmtp"})
    return _DEFERRED[cls]


async def _in_thread(cancel: Callable[[], None], fn: Callable[..., _R], *args: Any) -> _R:
    """fn(*args) on a new thread; on cancellation of the awaiting task,
    cancel() until the thread is done, then CancelledError."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_R] = loop.create_future()
    cancelled = threading.Event()

    def settle(value: Any, error: Optional[BaseException]) -> None:
        if fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(value)

    def work() -> None:
        value: Any = None
        error: Optional[BaseException] = None
        try:
            if cancelled.is_set():  # cancelled before it began: never start it
                raise asyncio.CancelledError()
            value = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            error = e
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=work, name="libsmtp.aio", daemon=True).start()
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        cancelled.set()
        while not fut.done():
            cancel()
            try:
                await asyncio.wait({fut}, timeout=_RECANCEL_S)
            except asyncio.CancelledError:  # cancelled again: keep ending the call
                pass
        if not fut.cancelled():
            fut.exception()  # retrieved: the task's outcome is the cancellation
        raise


class SMTP:
    """libsmtp.SMTP with coroutines: ``await s.connect(host, port)``,
    ``await s.sendmail(...)``, ``await s.quit()``. The constructor never
    connects (it cannot await); ``async with SMTP(host, port)`` connects
    on entry (SMTPConnectError for a greeting other than 220) and quits
    on exit."""

    _sync_class: Type[_client.SMTP] = _client.SMTP

    def __init__(self, host: str = "", port: int = 0, local_hostname: Optional[str] = None,
                 timeout: Any = _DEFAULT, source_address: Optional[Tuple[str, int]] = None) -> None:
        self._host, self._port = host, port
        self._lock: Optional[asyncio.Lock] = None
        self._sync = self._make(local_hostname=local_hostname, timeout=timeout, source_address=source_address)

    def _make(self, **kw: Any) -> _client.SMTP:
        return _deferred(self._sync_class)(**kw)

    @property
    def sync(self) -> _client.SMTP:
        """The synchronous libsmtp object this one drives."""
        return self._sync

    def _idle(self) -> _client.SMTP:
        if self._lock is not None and self._lock.locked():
            raise SMTPBadStateError("a call is running on this session (await it first)")
        return self._sync

    async def _run(self, fn: Callable[..., _R], *args: Any) -> _R:
        if self._lock is None:
            self._lock = asyncio.Lock()  # made here: it belongs to the running loop
        async with self._lock:
            return await _in_thread(self._sync.cancel, fn, *args)

    # ---- coroutines: smtplib's methods -----------------------------------------

    async def connect(self, host: str = "localhost", port: int = 0,
                      source_address: Optional[Tuple[str, int]] = None) -> Reply:
        return await self._run(self._sync.connect, host, port, source_address)

    async def connect_fd(self, sock: Union[socket.socket, int], host: Optional[str] = None) -> Reply:
        return await self._run(self._sync.connect_fd, sock, host)

    async def helo(self, name: str = "") -> Reply:
        return await self._run(self._sync.helo, name)

    async def ehlo(self, name: str = "") -> Reply:
        return await self._run(self._sync.ehlo, name)

    async def ehlo_or_helo_if_needed(self) -> None:
        await self._run(self._sync.ehlo_or_helo_if_needed)

    async def starttls(self, keyfile: Optional[str] = None, certfile: Optional[str] = None,
                       context: Union[TLSConfig, ssl.SSLContext, None] = None) -> Reply:
        return await self._run(self._sync.starttls, keyfile, certfile, context)

    async def login(self, user: str, password: str, *, initial_response_ok: bool = True,
                    allow_cleartext: bool = False) -> Reply:
        return await self._run(lambda: self._sync.login(user, password, initial_response_ok=initial_response_ok,
                                                        allow_cleartext=allow_cleartext))

    async def auth(self, mechanism: str, authobject: AuthObject, *, initial_response_ok: bool = True,
                   allow_cleartext: bool = False) -> Reply:
        """authobject runs on the call's thread (not the loop's)."""
        return await self._run(lambda: self._sync.auth(mechanism, authobject, initial_response_ok=initial_response_ok,
                                                       allow_cleartext=allow_cleartext))

    async def sendmail(self, from_addr: Address, to_addrs: To, msg: Message, mail_options: Sequence[str] = (),
                       rcpt_options: Sequence[str] = (), *, msg_flags: Optional[int] = None) -> Refused:
        return await self._run(lambda: self._sync.sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options,
                                                           msg_flags=msg_flags))

    async def send_message(self, msg: Union[email.message.Message, bytes, str], from_addr: Optional[Address] = None,
                           to_addrs: Optional[To] = None, mail_options: Sequence[str] = (),
                           rcpt_options: Sequence[str] = (), *, msg_flags: Optional[int] = None) -> Refused:
        return await self._run(lambda: self._sync.send_message(msg, from_addr, to_addrs, mail_options, rcpt_options,
                                                               msg_flags=msg_flags))

    async def sendmail_stream(self, from_addr: Address, to_addrs: To, source: Source,
                              mail_options: Sequence[str] = (), rcpt_options: Sequence[str] = (), *,
                              size: Optional[int] = None, msg_flags: Optional[int] = None) -> Refused:
        """The source is read on the call's thread: a file, or an iterator
        of bytes (not an async iterator)."""
        return await self._run(lambda: self._sync.sendmail_stream(from_addr, to_addrs, source, mail_options,
                                                                  rcpt_options, size=size, msg_flags=msg_flags))

    async def sendmail_batch(self, messages: Iterable[Tuple[Address, To, Message]], *,
                             msg_flags: Optional[int] = None) -> List[BatchResult]:
        return await self._run(lambda: self._sync.sendmail_batch(messages, msg_flags=msg_flags))

    async def noop(self) -> Reply:
        return await self._run(self._sync.noop)

    async def rset(self) -> Reply:
        return await self._run(self._sync.rset)

    async def help(self, args: str = "") -> bytes:
        return await self._run(self._sync.help, args)

    async def verify(self, address: str) -> Reply:
        return await self._run(self._sync.verify, address)

    vrfy = verify

    async def expn(self, address: str) -> Reply:
        return await self._run(self._sync.expn, address)

    async def mail(self, sender: Address, options: Sequence[str] = ()) -> Reply:
        return await self._run(self._sync.mail, sender, options)

    async def rcpt(self, recip: Address, options: Sequence[str] = ()) -> Reply:
        return await self._run(self._sync.rcpt, recip, options)

    async def data(self, msg: Message, *, msg_flags: Optional[int] = None) -> Reply:
        return await self._run(lambda: self._sync.data(msg, msg_flags=msg_flags))

    async def docmd(self, cmd: str, args: str = "") -> Reply:
        return await self._run(self._sync.docmd, cmd, args)

    async def send(self, s: Union[str, bytes]) -> None:
        await self._run(self._sync.send, s)

    async def putcmd(self, cmd: str, args: str = "") -> None:
        await self._run(self._sync.putcmd, cmd, args)

    async def getreply(self) -> Reply:
        return await self._run(self._sync.getreply)

    async def quit(self) -> Reply:
        return await self._run(self._sync.quit)

    # ---- plain methods ----------------------------------------------------------

    def close(self) -> None:
        """Drop the connection without QUIT; a running call is cancelled
        (it raises SMTPCancelledError in its task)."""
        if self._lock is not None and self._lock.locked():
            self._sync.cancel()
        else:
            self._sync.close()

    def cancel(self) -> None:
        """Cancel the running call (as cancelling its task does)."""
        self._sync.cancel()

    def free(self) -> None:
        """Release the native session now; the object is unusable afterwards."""
        self._idle().free()

    def has_extn(self, opt: str) -> bool:
        return self._idle().has_extn(opt)

    def rcpt_results(self) -> List[RcptResult]:
        return self._idle().rcpt_results()

    def set_debuglevel(self, debuglevel: int) -> None:
        self._idle().set_debuglevel(debuglevel)

    def set_timeout(self, which: str, seconds: Optional[float]) -> None:
        self._idle().set_timeout(which, seconds)

    def get_timeout(self, which: str) -> Optional[float]:
        return self._idle().get_timeout(which)

    def set_auth_mechanisms(self, mechanisms: Union[str, Sequence[str], None]) -> None:
        self._idle().set_auth_mechanisms(mechanisms)

    def set_require_tls(self, on: bool = True) -> None:
        self._idle().set_require_tls(on)

    def set_trust_loopback(self, trust: bool) -> None:
        self._idle().set_trust_loopback(trust)

    def set_pipelining(self, on: bool = True) -> None:
        self._idle().set_pipelining(on)

    def set_chunking(self, on: bool = True) -> None:
        self._idle().set_chunking(on)

    def set_envelope(self, envelope: Optional[Envelope]) -> None:
        self._idle().set_envelope(envelope)

    def set_proxy(self, url: Optional[str]) -> None:
        self._idle().set_proxy(url)

    def set_debug_secrets(self, show: bool) -> None:
        self._idle().set_debug_secrets(show)

    @property
    def connected(self) -> bool:
        return self._idle().connected

    @property
    def does_esmtp(self) -> bool:
        return self._idle().does_esmtp

    @property
    def ehlo_resp(self) -> Optional[bytes]:
        return self._idle().ehlo_resp

    @property
    def helo_resp(self) -> Optional[bytes]:
        return self._idle().helo_resp

    @property
    def esmtp_features(self) -> Dict[str, str]:
        return self._idle().esmtp_features

    @property
    def is_encrypted(self) -> bool:
        return self._idle().is_encrypted

    @property
    def tls_version(self) -> Optional[str]:
        return self._idle().tls_version

    @property
    def tls_cipher(self) -> Optional[str]:
        return self._idle().tls_cipher

    @property
    def last_reply(self) -> Reply:
        return self._idle().last_reply

    @property
    def sender(self) -> Optional[str]:
        return self._idle().sender

    @property
    def command_encoding(self) -> str:
        return self._idle().command_encoding

    @property
    def local_hostname(self) -> Optional[str]:
        return self._idle().local_hostname

    @local_hostname.setter
    def local_hostname(self, name: str) -> None:
        self._idle().local_hostname = name

    async def __aenter__(self: _S) -> _S:
        if self._host:
            code, msg = await self.connect(self._host, self._port)
            if code != 220:
                self.close()
                raise SMTPConnectError(code, msg)
        return self

    async def __aexit__(self, *args: object) -> None:
        try:
            code, message = await self.quit()
            if code != 221:
                raise SMTPResponseException(code, message)
        except SMTPServerDisconnected:
            pass
        finally:
            self.close()

    def __repr__(self) -> str:
        busy = self._lock is not None and self._lock.locked()
        return "<libsmtp.aio.%s %s>" % (type(self).__name__, "busy" if busy else
                                         "connected" if self._sync.connected else "not connected")


class SMTP_SSL(SMTP):
    """libsmtp.SMTP_SSL with coroutines (TLS from the first byte)."""

    _sync_class = _client.SMTP_SSL

    def __init__(self, host: str = "", port: int = 0, local_hostname: Optional[str] = None,
                 keyfile: Optional[str] = None, certfile: Optional[str] = None, timeout: Any = _DEFAULT,
                 source_address: Optional[Tuple[str, int]] = None,
                 context: Union[TLSConfig, ssl.SSLContext, None] = None) -> None:
        self._host, self._port = host, port
        self._lock = None
        self._sync = self._make(local_hostname=local_hostname, keyfile=keyfile, certfile=certfile, timeout=timeout,
                                source_address=source_address, context=context)


class LMTP(SMTP):
    """libsmtp.LMTP with coroutines (LHLO; a reply per recipient after the data)."""

    _sync_class = _client.LMTP

    def __init__(self, host: str = "", port: int = _client.LMTP_PORT, local_hostname: Optional[str] = None,
                 source_address: Optional[Tuple[str, int]] = None, timeout: Any = _DEFAULT) -> None:
        self._host, self._port = host, port
        self._lock = None
        self._sync = self._make(local_hostname=local_hostname, source_address=source_address, timeout=timeout)


class Pool:
    """libsmtp.Pool with coroutines: the same arguments (``like`` is a
    synchronous libsmtp.SMTP, SMTP_SSL or LMTP, or an aio one). Calls run
    at once on as many threads as they are (the pool bounds the
    connections); cancelling a call's task cancels that call alone."""

    def __init__(self, host: str, port: int = 0, max_connections: int = 4, *,
                 like: Union[_client.SMTP, SMTP, None] = None, timeout: Any = _DEFAULT,
                 login: Optional[Tuple[str, str]] = None, **options: Any) -> None:
        sync_like = like.sync if isinstance(like, SMTP) else like
        self._pool = _pool.Pool(host, port, max_connections, like=sync_like, timeout=timeout, login=login, **options)

    @property
    def sync(self) -> _pool.Pool:
        """The synchronous libsmtp.Pool this one drives (its setters and
        stats() do not block and may be called directly)."""
        return self._pool

    async def _lend(self, fn: Callable[..., _R], *args: Any) -> _R:
        pool = self._pool
        sess = pool._take()
        try:
            return await _in_thread(sess.cancel, fn, sess, *args)
        except Exception:
            pool._raise_auth_error()
            raise
        finally:
            pool._give(sess)

    async def sendmail(self, from_addr: Address, to_addrs: To, msg: Message, mail_options: Sequence[str] = (),
                       rcpt_options: Sequence[str] = (), *, msg_flags: Optional[int] = None) -> Refused:
        return await self._lend(self._pool._sendmail, from_addr, to_addrs, msg, mail_options, rcpt_options,
                                msg_flags)

    async def send_message(self, msg: Union[email.message.Message, bytes, str], from_addr: Optional[Address] = None,
                           to_addrs: Optional[To] = None, mail_options: Sequence[str] = (),
                           rcpt_options: Sequence[str] = (), *, msg_flags: Optional[int] = None) -> Refused:
        return await self._lend(self._pool._send_message, msg, from_addr, to_addrs, mail_options, rcpt_options,
                                msg_flags)

    async def sendmail_batch(self, messages: Iterable[Tuple[Address, To, Message]], *,
                             msg_flags: Optional[int] = None) -> List[BatchResult]:
        return await self._lend(self._pool._sendmail_batch, messages, msg_flags)

    def stats(self) -> Dict[str, int]:
        return self._pool.stats()

    def set_option(self, name: str, value: Union[int, float, bool]) -> None:
        self._pool.set_option(name, value)

    async def close(self) -> None:
        """Wait for the running calls (on a thread), then free the pool."""
        await asyncio.get_running_loop().run_in_executor(None, self._pool.close)

    async def __aenter__(self) -> "Pool":
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()
