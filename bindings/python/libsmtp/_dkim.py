"""DKIMSigner: DKIM signatures (RFC 6376) for the messages Python sends,
over smtp_dkim_* (rsa-sha256 or ed25519-sha256, the algorithm following
the key).

Python composes messages with its own email package, so the library's
message builder is not bound (_native.NOT_BOUND); its signer is, for the
raw message or the EmailMessage about to be sent. Signing is CPU work and
never touches the network, so libsmtp.aio uses this same class.
"""
from __future__ import annotations

import copy
import ctypes
import email.generator
import email.message
import email.policy
import email.utils
import io
import re
import threading
from ctypes import byref, c_char_p
from typing import Optional, Sequence, Tuple, Union

from . import _native as N
from ._client import _strings, _text
from ._errors import make_error

# Either the two names, or RFC 6376 3.5's c= form: "relaxed/simple", or a
# header algorithm alone, whose body algorithm is then "simple".
Canonicalization = Union[str, Tuple[str, str]]
Signable = Union[bytes, bytearray, memoryview, str, email.message.Message]

_CANON = {"simple": N.SMTP_DKIM_SIMPLE, "relaxed": N.SMTP_DKIM_RELAXED}
# smtplib's _fix_eols, as SMTP_MSG_NORMALIZE sends a message: a lone CR or
# lone LF is a line end, written CRLF (RFC 5321 2.3.8).
_EOL = re.compile(rb"\r\n|\r|\n")
# The address fields send_message takes the envelope from, with their
# Resent- forms (smtplib's send_message, RFC 5322 3.6.6).
_ADDRESS_FIELDS = ("From", "Sender", "To", "Cc", "Bcc")


def _canonicalization(value: Canonicalization) -> Tuple[str, str]:
    if isinstance(value, str):
        names = value.split("/")
        if len(names) == 1:
            names.append("simple")  # RFC 6376 3.5, c=: "If only one algorithm is named, [...] body: simple"
    elif isinstance(value, (tuple, list)):
        names = list(value)
    else:
        raise TypeError("canonicalization must be a (header, body) pair or \"header/body\", not %s"
                        % type(value).__name__)
    if len(names) != 2 or not all(isinstance(n, str) and n.lower() in _CANON for n in names):
        raise ValueError("canonicalization must name \"simple\" or \"relaxed\" for the header and the body, "
                         "not %r" % (value,))
    return names[0].lower(), names[1].lower()


def _international(msg: email.message.Message) -> bool:
    """smtplib's send_message flattens with utf8=True when an address is
    not ASCII (RFC 6531); signing flattens as sending will."""
    fields = [v for name in _ADDRESS_FIELDS for prefix in ("", "Resent-")
              for v in (msg.get_all(prefix + name) or [])]
    return any(not addr.isascii() for _, addr in email.utils.getaddresses([str(f) for f in fields]))


def message_bytes(message: Signable) -> bytes:
    """The bytes a send of `message` puts on the wire, line ends CRLF: a
    Message flattened as smtplib's send_message flattens it (Bcc and
    Resent-Bcc removed, CRLF), a str as ASCII (smtplib's sendmail), bytes
    as given; then every lone CR or LF made CRLF, as SMTP_MSG_NORMALIZE
    sends it (smtp_dkim_sign reads line ends so)."""
    if isinstance(message, email.message.Message):
        msg_copy = copy.copy(message)
        del msg_copy["Bcc"]
        del msg_copy["Resent-Bcc"]
        policy = message.policy
        if _international(message) and isinstance(policy, email.policy.EmailPolicy):
            # compat32 (a legacy Message's) has no utf8 switch: it writes
            # header values as the message holds them.
            policy = policy.clone(utf8=True)
        with io.BytesIO() as out:
            email.generator.BytesGenerator(out, policy=policy).flatten(msg_copy, linesep="\r\n")
            data = out.getvalue()
    elif isinstance(message, str):
        data = message.encode("ascii")
    elif isinstance(message, (bytes, bytearray, memoryview)):
        data = bytes(message)
    else:
        raise TypeError("message must be bytes, str or an email.message.Message, not %s" % type(message).__name__)
    return _EOL.sub(b"\r\n", data)


class DKIMSigner:
    """Signs messages with DKIM (RFC 6376).

    key_pem: the private key, unencrypted PEM text (str or bytes): "BEGIN
    RSA PRIVATE KEY" (PKCS#1) or "BEGIN PRIVATE KEY" (PKCS#8, RSA of 2048
    to 8192 bits, or Ed25519); rsa-sha256 or ed25519-sha256 follows from
    it. domain: d=, the signing domain (an IDN is signed in A-label form).
    selector: s=; the public key goes at <selector>._domainkey.<domain>
    (dns_record() is its TXT record). headers: the fields to sign, h=
    (From always is); None: RFC 6376 5.4.1's list plus Message-ID and the
    MIME fields. canonicalization: (header, body), each "simple" or
    "relaxed", or c='s "relaxed/simple" form.

    sign(message) returns the signed message: the DKIM-Signature field,
    then the message with CRLF line ends. Send those bytes unchanged
    (sendmail, or send_message(bytes)); a changed byte in a signed field or
    the body makes verification fail. Values the library refuses raise
    ValueError with its reason; the key is never kept in Python, shown by
    repr() or put in an error message. One signer may be used from any
    number of threads (calls take turns).
    """

    __slots__ = ("_ptr", "_lock", "_domain", "_selector", "_headers", "_canonicalization", "_algorithm",
                 "__weakref__")

    def __init__(self, key_pem: Union[str, bytes, bytearray, memoryview], domain: str, selector: str,
                 headers: Optional[Sequence[str]] = None,
                 canonicalization: Canonicalization = ("relaxed", "relaxed")) -> None:
        self._ptr: Optional[int] = N.lib.smtp_dkim_new()
        self._lock = threading.Lock()
        lib = N.lib
        self._set_key(key_pem)
        self._check(lib.smtp_dkim_set_domain(self._ptr, _text(domain, "domain")))
        self._check(lib.smtp_dkim_set_selector(self._ptr, _text(selector, "selector")))
        self._domain = domain
        self._selector = selector
        if headers is not None:
            if not isinstance(headers, (str, bytes)):
                headers = list(headers)
            names, n = _strings(headers, "headers")
            if not n:
                # The C API's empty list means the default: say so rather
                # than sign a different set than asked.
                raise ValueError("headers must name at least one field (From is always signed); "
                                 "None for the default list")
            self._check(lib.smtp_dkim_set_headers(self._ptr, names, n))
            self._headers: Optional[Tuple[str, ...]] = tuple(headers)
        else:
            self._headers = None
        header, body = _canonicalization(canonicalization)
        self._check(lib.smtp_dkim_set_canonicalization(self._ptr, _CANON[header], _CANON[body]))
        self._canonicalization = (header, body)
        k = re.search(r"(?:^|;)\s*k=([a-z0-9]+)", self.dns_record())
        self._algorithm = "%s-sha256" % (k.group(1) if k else "rsa")

    def _set_key(self, key_pem: Union[str, bytes, bytearray, memoryview]) -> None:
        if isinstance(key_pem, str):
            key = bytearray(key_pem.encode("utf-8"))
        elif isinstance(key_pem, (bytes, bytearray, memoryview)):
            key = bytearray(key_pem)
        else:
            raise TypeError("key_pem must be PEM text (str or bytes), not %s" % type(key_pem).__name__)
        # A copy of our own, so that it can be wiped once the library has
        # parsed it (the library keeps only the parsed key, and wipes that).
        buf = (ctypes.c_char * len(key)).from_buffer(key)
        try:
            self._check(N.lib.smtp_dkim_set_key_pem(self._ptr, buf, len(key)))
        finally:
            ctypes.memset(buf, 0, len(key))
            del buf

    @property
    def domain(self) -> str:
        """d=, as given."""
        return self._domain

    @property
    def selector(self) -> str:
        """s=, as given."""
        return self._selector

    @property
    def headers(self) -> Optional[Tuple[str, ...]]:
        """The fields signed, as given; None: the default list."""
        return self._headers

    @property
    def canonicalization(self) -> Tuple[str, str]:
        """(header, body): "simple" or "relaxed" each."""
        return self._canonicalization

    @property
    def algorithm(self) -> str:
        """a=: "rsa-sha256" or "ed25519-sha256", from the key."""
        return self._algorithm

    def sign(self, message: Signable) -> bytes:
        """The signed message: the DKIM-Signature field (folded, ending in
        CRLF) followed by the message's bytes as sending them would put
        them on the wire (see message_bytes: an EmailMessage flattened as
        send_message flattens it, Bcc removed; line ends CRLF). Without a
        From field: ValueError."""
        data = message_bytes(message)
        field = c_char_p()
        with self._lock:
            self._check(N.lib.smtp_dkim_sign(self._handle(), data, len(data), byref(field)))
            signature = field.value or b""
        return signature + data

    def dns_record(self) -> str:
        """The DNS TXT record publishing the public key ("v=DKIM1; k=rsa;
        p=..."), for <selector>._domainkey.<domain>."""
        record = c_char_p()
        with self._lock:
            self._check(N.lib.smtp_dkim_dns_record(self._handle(), byref(record)))
            return (record.value or b"").decode("ascii")

    def _handle(self) -> int:
        if not self._ptr:
            raise ValueError("DKIMSigner is closed")
        return self._ptr

    def _check(self, rc: int) -> None:
        if rc != N.SMTP_OK:
            msg = (N.lib.smtp_dkim_errmsg(self._ptr) or b"").decode("utf-8", "replace")
            raise make_error(rc, msg, 0, b"")

    def close(self) -> None:
        """Free it now (the library wipes the key); later calls raise ValueError."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
        if ptr:
            N.lib.smtp_dkim_free(ptr)

    def __enter__(self) -> "DKIMSigner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        # The public facts only, never the key.
        return "<libsmtp.DKIMSigner %s d=%s s=%s c=%s%s%s>" % (
            self._algorithm, self._domain, self._selector, "/".join(self._canonicalization),
            "" if self._headers is None else " h=" + ":".join(self._headers), "" if self._ptr else " closed")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
