"""Exceptions: smtplib's own classes (re-exported, so ``except
smtplib.SMTPException`` catches libsmtp's errors too) and a few subclasses
for result codes smtplib has no class for.

Result code -> exception (see README.md):

    SMTP_ERR_NULL_ARGUMENT        TypeError
    SMTP_ERR_INVALID_ARGUMENT     ValueError
    SMTP_ERR_BAD_STATE            SMTPBadStateError(SMTPException, RuntimeError)
    SMTP_ERR_PANIC                SMTPPanicError(SMTPBadStateError)
    SMTP_ERR_CONNECT              SMTPConnectFailedError(SMTPException, ConnectionError)
    SMTP_ERR_TIMEOUT              SMTPTimeoutError(SMTPServerDisconnected, TimeoutError)
    SMTP_ERR_IO                   SMTPIOError(SMTPServerDisconnected)
    SMTP_ERR_TLS                  SMTPTLSError(SMTPException, ssl.SSLError)
    SMTP_ERR_SERVER_DISCONNECTED  SMTPServerDisconnected
    SMTP_ERR_NOT_ENCRYPTED        SMTPNotEncryptedError(SMTPException)
    SMTP_ERR_CANCELLED            SMTPCancelledError(SMTPServerDisconnected)
    SMTP_ERR_OUTCOME_UNKNOWN      SMTPOutcomeUnknownError(SMTPServerDisconnected)
    SMTP_ERR_RESPONSE             SMTPResponseException(code, msg)
    SMTP_ERR_CONNECT_REPLY        SMTPConnectError(code, msg)
    SMTP_ERR_HELO                 SMTPHeloError(code, msg)
    SMTP_ERR_NOT_SUPPORTED        SMTPNotSupportedError
    SMTP_ERR_AUTH                 SMTPAuthenticationError(code, msg)
    SMTP_ERR_AUTH_ABORTED         SMTPAuthenticationAborted(SMTPAuthenticationError)
    SMTP_ERR_SENDER_REFUSED       SMTPSenderRefused(code, msg, sender)
    SMTP_ERR_RECIPIENTS_REFUSED   SMTPRecipientsRefused(recipients)
    SMTP_ERR_DATA                 SMTPDataError(code, msg)
    SMTP_ERR_SMTP                 SMTPException
    SMTP_ERR_TOO_LARGE            SMTPMessageTooLargeError(SMTPException)

The library says, per code, which smtplib exception it stands for
(smtp_result_exception()) and whether it carries a server reply
(smtp_result_has_reply()); this module adds only the subclasses above, by
the code's C name, for codes smtplib has no class of its own for.

Every exception raised from a result code carries ``libsmtp_result`` (the
code) and ``libsmtp_errmsg`` (``smtp_session_errmsg()``, str).
"""
import builtins
import re
import smtplib
import ssl

from smtplib import (SMTPAuthenticationError, SMTPConnectError, SMTPDataError, SMTPException,
                     SMTPHeloError, SMTPNotSupportedError, SMTPRecipientsRefused,
                     SMTPResponseException, SMTPSenderRefused, SMTPServerDisconnected)

from . import _native as N


class SMTPBadStateError(SMTPException, RuntimeError):
    """The call does not fit the session's state: a call on a session from
    inside one of its own callbacks, or a session poisoned by a panic."""


class SMTPPanicError(SMTPBadStateError):
    """The library caught an internal panic; the session is unusable."""


class SMTPConnectFailedError(SMTPException, ConnectionError):
    """The connection could not be made: refused, unreachable, name not
    resolved (smtplib lets the socket's OSError through)."""


class SMTPTimeoutError(SMTPServerDisconnected, TimeoutError):
    """A timeout fired (connect, I/O, a reply's limit, or the whole call);
    the connection is closed."""


class SMTPCancelledError(SMTPServerDisconnected):
    """The call was ended by cancel() from another thread; the connection is
    closed (connect again to go on). A message whose final reply was not
    read is not reported as sent. Deliberately not a TimeoutError: nothing
    ran out of time."""


class SMTPIOError(SMTPServerDisconnected):
    """Another I/O error; the connection is closed (smtplib: SMTPServerDisconnected)."""


class SMTPTLSError(SMTPException, ssl.SSLError):
    """TLS failed (handshake, certificate verification, injected data after
    the 220 to STARTTLS); the connection is closed. Also an ssl.SSLError, as
    smtplib's errors from the ssl module are."""

    def __str__(self):
        return str(self.args[0]) if len(self.args) == 1 else OSError.__str__(self)


class SMTPNotEncryptedError(SMTPException):
    """The call would send a password or token in clear (neither TLS, a Unix
    socket nor loopback), or require_tls is on and the connection is not TLS.
    Nothing was sent."""


class SMTPAuthenticationAborted(SMTPAuthenticationError):
    """The client cancelled an AUTH exchange with '*' (a challenge that is not
    valid base64, or the callback gave up); smtp_code/smtp_error hold the
    server's answer to the cancel."""


class SMTPOutcomeUnknownError(SMTPServerDisconnected):
    """A message went out in full, then the connection ended before the
    reply that decides it: the server may or may not have taken it."""


class SMTPMessageTooLargeError(SMTPException):
    """The message is larger than the SIZE the server advertised; refused
    before MAIL, nothing was sent."""


_OS_ERROR = re.compile(r"\(os error (\d+)\)")

# libsmtp's classes for codes smtplib has no class of its own for, each a
# subclass of the one the library names (smtp_result_exception()).
_REFINED = {
    "SMTP_ERR_BAD_STATE": SMTPBadStateError,
    "SMTP_ERR_PANIC": SMTPPanicError,
    "SMTP_ERR_CONNECT": SMTPConnectFailedError,
    "SMTP_ERR_TIMEOUT": SMTPTimeoutError,
    "SMTP_ERR_IO": SMTPIOError,
    "SMTP_ERR_TLS": SMTPTLSError,
    "SMTP_ERR_NOT_ENCRYPTED": SMTPNotEncryptedError,
    "SMTP_ERR_CANCELLED": SMTPCancelledError,
    "SMTP_ERR_OUTCOME_UNKNOWN": SMTPOutcomeUnknownError,
    "SMTP_ERR_AUTH_ABORTED": SMTPAuthenticationAborted,
    "SMTP_ERR_TOO_LARGE": SMTPMessageTooLargeError,
}


def smtplib_class(name):
    """The class the library names for a code: smtplib's, a builtin, or ssl's."""
    for where in (smtplib, builtins, ssl):
        cls = getattr(where, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return cls
    raise ImportError("libsmtp: the library names an exception Python lacks: %r" % name)


# Which class each result code raises, built from the library's table.
EXCEPTION_FOR_RESULT = {code: _REFINED.get(name) or smtplib_class(exc)
                        for code, name, exc, _ in N.RESULTS if exc is not None}


def make_error(rc, errmsg, code, text, sender=None, recipients=None):
    """The exception for result code `rc`. `errmsg` is the session's error
    message (str), `code`/`text` its last reply (int, bytes)."""
    cls = EXCEPTION_FOR_RESULT.get(rc)
    if cls is None:
        exc = SMTPException("%s: %s" % (N.result_str(rc), errmsg))
    elif issubclass(cls, SMTPSenderRefused):
        exc = cls(code, text, sender)
    elif issubclass(cls, SMTPRecipientsRefused):
        exc = cls(recipients if recipients is not None else {})
    elif rc in N.WITH_REPLY:
        exc = cls(code, text)
    else:
        exc = cls(errmsg)
    exc.libsmtp_result = rc
    exc.libsmtp_errmsg = errmsg
    if isinstance(exc, OSError) and exc.errno is None:
        m = _OS_ERROR.search(errmsg)
        if m:  # "Connection refused (os error 111)": errno 111, as the socket's OSError had
            exc.errno = int(m.group(1))
    return exc


__all__ = [
    "SMTPException", "SMTPNotSupportedError", "SMTPServerDisconnected", "SMTPResponseException",
    "SMTPSenderRefused", "SMTPRecipientsRefused", "SMTPDataError", "SMTPConnectError",
    "SMTPHeloError", "SMTPAuthenticationError",
    "SMTPBadStateError", "SMTPPanicError", "SMTPConnectFailedError", "SMTPTimeoutError",
    "SMTPIOError", "SMTPTLSError", "SMTPNotEncryptedError", "SMTPAuthenticationAborted",
    "SMTPMessageTooLargeError", "SMTPCancelledError", "SMTPOutcomeUnknownError", "EXCEPTION_FOR_RESULT",
    "make_error", "smtplib_class",
]
