"""Envelope: structured MAIL and RCPT options (DSN, SMTPUTF8, BODY,
REQUIRETLS, MT-PRIORITY, DELIVERBY) over smtp_envelope_*.

smtplib leaves these to mail_options/rcpt_options strings; libsmtp checks
and encodes them (xtext for ENVID and ORCPT, RFC 3461 4.4 and 4.2) and
refuses each the server does not advertise before MAIL is sent
(SMTPNotSupportedError). A session or pool copies the envelope it is given
(SMTP.set_envelope, Pool.set_envelope): later changes do not reach it.
"""
from __future__ import annotations

from typing import Iterable, Optional, Union

from . import _native as N
from ._errors import make_error

_RET = {"FULL": N.SMTP_DSN_RET_FULL, "HDRS": N.SMTP_DSN_RET_HDRS}
_NOTIFY = {"SUCCESS": N.SMTP_DSN_NOTIFY_SUCCESS, "FAILURE": N.SMTP_DSN_NOTIFY_FAILURE,
           "DELAY": N.SMTP_DSN_NOTIFY_DELAY, "NEVER": N.SMTP_DSN_NOTIFY_NEVER}
_BODY = {"7BIT": N.SMTP_BODY_7BIT, "8BITMIME": N.SMTP_BODY_8BITMIME, "BINARYMIME": N.SMTP_BODY_BINARYMIME}

Notify = Union[str, Iterable[str]]


def _notify_bits(notify: Notify) -> int:
    """"SUCCESS,FAILURE" or ["SUCCESS", "FAILURE"] -> SMTP_DSN_NOTIFY_* bits."""
    names = notify.split(",") if isinstance(notify, str) else list(notify)
    bits = 0
    for name in names:
        try:
            bits |= _NOTIFY[name.strip().upper()]
        except (KeyError, AttributeError):
            raise ValueError("unknown DSN NOTIFY %r (SUCCESS, FAILURE, DELAY or NEVER)" % (name,)) from None
    return bits


def _choice(table: dict, value: str, what: str) -> int:
    try:
        return int(table[value.upper()])
    except (KeyError, AttributeError):
        raise ValueError("unknown %s %r (one of %s)" % (what, value, ", ".join(table))) from None


class Envelope:
    """MAIL and RCPT options for the following sendmail and send_message
    calls of a session (SMTP.set_envelope) or a pool (Pool.set_envelope).

    dsn_ret: "FULL" or "HDRS" (RFC 3461 4.3); dsn_envid: 1-100 characters
    (4.4); dsn_notify: "SUCCESS,FAILURE", a list of those names, or "NEVER",
    for every recipient without its own (4.1); smtputf8: SMTPUTF8 on MAIL
    (RFC 6531); body: "7BIT", "8BITMIME" or "BINARYMIME"; requiretls:
    REQUIRETLS (RFC 8689, TLS only); mt_priority: -9 to 9 (RFC 6710);
    deliver_by: seconds (RFC 2852) with deliver_by_notify (a delay notice
    instead of a return) and deliver_by_trace. rcpt_dsn(address, notify,
    orcpt) sets one recipient's DSN options. Values the library refuses
    raise ValueError with its reason.
    """

    __slots__ = ("_ptr", "__weakref__")

    def __init__(self, *, dsn_ret: Optional[str] = None, dsn_envid: Optional[str] = None,
                 dsn_notify: Optional[Notify] = None, smtputf8: bool = False, body: Optional[str] = None,
                 requiretls: bool = False, mt_priority: Optional[int] = None, deliver_by: Optional[int] = None,
                 deliver_by_notify: bool = False, deliver_by_trace: bool = False) -> None:
        self._ptr: Optional[int] = N.lib.smtp_envelope_new()
        lib = N.lib
        if dsn_ret is not None:
            self._check(lib.smtp_envelope_set_dsn_ret(self._ptr, _choice(_RET, dsn_ret, "DSN RET")))
        if dsn_envid is not None:
            self._check(lib.smtp_envelope_set_dsn_envid(self._ptr, _bytes(dsn_envid)))
        if dsn_notify is not None:
            self._check(lib.smtp_envelope_set_dsn_notify(self._ptr, _notify_bits(dsn_notify)))
        if smtputf8:
            self._check(lib.smtp_envelope_set_smtputf8(self._ptr, 1))
        if body is not None:
            self._check(lib.smtp_envelope_set_body(self._ptr, _choice(_BODY, body, "BODY")))
        if requiretls:
            self._check(lib.smtp_envelope_set_requiretls(self._ptr, 1))
        if mt_priority is not None:
            self._check(lib.smtp_envelope_set_mt_priority(self._ptr, int(mt_priority)))
        if deliver_by is not None:
            self._check(lib.smtp_envelope_set_deliver_by(self._ptr, int(deliver_by), 1 if deliver_by_notify else 0,
                                                          1 if deliver_by_trace else 0))

    def rcpt_dsn(self, address: str, notify: Optional[Notify] = None, orcpt: Optional[str] = None) -> "Envelope":
        """DSN options of one recipient (matched against the address given
        to sendmail, or found by send_message): NOTIFY (None: the
        envelope's) and ORCPT, the original recipient (sent as rfc822;
        xtext). Returns self."""
        bits = 0 if notify is None else _notify_bits(notify)
        self._check(N.lib.smtp_envelope_set_rcpt_dsn(self._handle(), _bytes(address), bits,
                                                      None if orcpt is None else _bytes(orcpt)))
        return self

    def _handle(self) -> int:
        if not self._ptr:
            raise ValueError("Envelope is closed")
        return self._ptr

    def _check(self, rc: int) -> None:
        if rc != N.SMTP_OK:
            msg = (N.lib.smtp_envelope_errmsg(self._ptr) or b"").decode("utf-8", "replace")
            raise make_error(rc, msg, 0, b"")

    def close(self) -> None:
        """Free it now (sessions and pools given it keep their copy)."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            N.lib.smtp_envelope_free(ptr)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _bytes(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError("expected str, not %s" % type(value).__name__)
    data = value.encode("utf-8")
    if b"\0" in data:
        raise ValueError("contains a NUL character")
    return data
