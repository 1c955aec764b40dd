"""libsmtp: Python's smtplib API over libsmtp, an SMTP/LMTP client library
written in Rust (ctypes; no compiler needed).

    import libsmtp as smtplib      # the one line to change

    with smtplib.SMTP("mail.example.com", 587) as s:
        s.starttls()               # verified against the system-independent Mozilla roots
        s.login("alice", "secret")
        refused = s.sendmail("alice@example.com", ["bob@example.com"], msg)

The exception classes are smtplib's own (``libsmtp.SMTPException is
smtplib.SMTPException``); result codes smtplib has no class for get
subclasses (see ``libsmtp._errors`` and README.md). The library is found
bundled in the wheel (``libsmtp/libsmtp.so.0``), else through
``LIBSMTP_PATH``, then ``pkg-config --variable=libdir smtp``, then
``ctypes.util.find_library("smtp")``. ``libsmtp.aio`` has the same classes
with coroutines for methods (asyncio). ``DKIMSigner`` signs the
messages either sends with DKIM (no network, so no coroutine).
"""
from smtplib import quoteaddr, quotedata  # noqa: F401 - smtplib's module-level helpers

from ._native import LIBRARY_PATH, LIBRARY_VERSION, LIBRARY_VERSION_NUMBER, result_str
from ._errors import (EXCEPTION_FOR_RESULT, SMTPAuthenticationAborted, SMTPAuthenticationError,
                      SMTPBadStateError, SMTPCancelledError, SMTPConnectError, SMTPConnectFailedError,
                      SMTPDataError, SMTPException, SMTPHeloError, SMTPIOError, SMTPMessageTooLargeError,
                      SMTPNotEncryptedError, SMTPNotSupportedError, SMTPOutcomeUnknownError, SMTPPanicError,
                      SMTPRecipientsRefused, SMTPResponseException, SMTPSenderRefused,
                      SMTPServerDisconnected, SMTPTimeoutError, SMTPTLSError)
from ._tls import TLSConfig, create_default_context
from ._envelope import Envelope
from ._dkim import DKIMSigner
from ._client import (CRLF, LMTP, LMTP_PORT, MSG_NORMALIZE, MSG_RAW, MSG_REJECT_BARE_EOL, SMTP,
                      SMTP_PORT, SMTP_SSL, SMTP_SSL_PORT, TIMEOUT_NAMES, BatchResult, RcptResult, bCRLF)
from ._pool import POOL_OPTIONS, POOL_STATS, Pool

__version__ = "0.1.0"

# smtplib's _MAXLINE: the longest reply line libsmtp reads, line end included
# (a longer one is SMTPResponseException 500 "Line too long.").
_MAXLINE = 8192

# smtplib's __all__, then libsmtp's additions.
__all__ = ["SMTPException", "SMTPNotSupportedError", "SMTPServerDisconnected",
           "SMTPResponseException", "SMTPSenderRefused", "SMTPRecipientsRefused", "SMTPDataError",
           "SMTPConnectError", "SMTPHeloError", "SMTPAuthenticationError", "quoteaddr", "quotedata",
           "SMTP", "SMTP_SSL", "LMTP",
           "SMTPBadStateError", "SMTPPanicError", "SMTPConnectFailedError", "SMTPTimeoutError",
           "SMTPIOError", "SMTPTLSError", "SMTPNotEncryptedError", "SMTPAuthenticationAborted",
           "SMTPMessageTooLargeError", "SMTPCancelledError", "SMTPOutcomeUnknownError", "TLSConfig", "create_default_context",
           "RcptResult", "BatchResult", "Envelope", "DKIMSigner", "Pool", "POOL_OPTIONS", "POOL_STATS", "MSG_NORMALIZE", "MSG_RAW", "MSG_REJECT_BARE_EOL", "SMTP_PORT", "SMTP_SSL_PORT",
           "LMTP_PORT", "TIMEOUT_NAMES", "CRLF", "bCRLF", "LIBRARY_PATH", "LIBRARY_VERSION", "LIBRARY_VERSION_NUMBER",
           "EXCEPTION_FOR_RESULT", "result_str"]

for _cls in (SMTP, SMTP_SSL, LMTP, TLSConfig, RcptResult, BatchResult, Envelope, DKIMSigner, Pool, SMTPBadStateError, SMTPPanicError,
             SMTPConnectFailedError, SMTPTimeoutError, SMTPIOError, SMTPTLSError, SMTPNotEncryptedError,
             SMTPAuthenticationAborted, SMTPMessageTooLargeError, SMTPCancelledError, SMTPOutcomeUnknownError):
    _cls.__module__ = __name__
del _cls
