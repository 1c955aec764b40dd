"""TLS configuration: libsmtp's own (rustls: Mozilla roots, verification on,
TLS 1.2 minimum) instead of an ssl.SSLContext.

``TLSConfig(...)`` builds one; ``create_default_context(cafile=, capath=,
cadata=)`` mirrors ``ssl.create_default_context()``. Methods that take
``context=`` accept a TLSConfig, None (the default: verified TLS), or an
``ssl.SSLContext``, translated as far as libsmtp can express it (see
``TLSConfig.from_ssl_context``).
"""
from __future__ import annotations

import os
import ssl
import tempfile
from ctypes import byref
from typing import Iterable, Optional, Union

from . import _native as N
from ._errors import make_error


_ROOTS = {"mozilla": N.SMTP_ROOTS_MOZILLA, "system": N.SMTP_ROOTS_SYSTEM}
StrPath = Union[str, bytes, "os.PathLike[str]"]


def _roots_bits(roots):
    """"mozilla", "system", or an iterable of them -> SMTP_ROOTS_* bits."""
    names = [roots] if isinstance(roots, str) else list(roots)
    bits = 0
    for name in names:
        try:
            bits |= _ROOTS[name.lower()]
        except (KeyError, AttributeError):
            raise ValueError("unknown roots %r (\"mozilla\" or \"system\")" % (name,)) from None
    return bits


def _path(p, what):
    if isinstance(p, os.PathLike):
        p = os.fspath(p)
    if isinstance(p, str):
        p = p.encode("utf-8", "surrogateescape")
    if not isinstance(p, bytes):
        raise TypeError("%s must be a path, not %s" % (what, type(p).__name__))
    if b"\0" in p:
        raise ValueError("%s contains a NUL byte" % what)
    return p


class TLSConfig:
    """An immutable, thread-safe libsmtp TLS configuration.

    cafile / capath / cadata: more trust anchors (PEM file, directory of PEM
      files, PEM str or DER bytes), as ssl.create_default_context() takes them.
    default_roots: also trust the built-in Mozilla roots (default True; when
      False only the CAs given are trusted).
    roots: which built-in stores to trust instead, when given: "mozilla",
      "system" (the operating system's store, loaded now; TLSConfig.roots_info
      says what was loaded), both (a list), or () for only the CAs given.
    certfile / keyfile: a client certificate chain (PEM, leaf first) and its key.
    server_hostname: check the certificate against (and send as SNI) this name
      instead of the host given to connect.
    verify: False accepts any certificate for any name (DANGEROUS; test
      setups only; every handshake says so in the debug trace).
    """

    __slots__ = ("_ptr", "verify", "roots_info", "__weakref__")

    def __init__(self, cafile: Optional[StrPath] = None, capath: Optional[StrPath] = None,
                 cadata: Union[str, bytes, None] = None, *, certfile: Optional[StrPath] = None,
                 keyfile: Optional[StrPath] = None, server_hostname: Optional[str] = None,
                 default_roots: bool = True, roots: Union[str, Iterable[str], None] = None,
                 verify: bool = True, _optional_ders: Iterable[bytes] = ()) -> None:
        self._ptr: Optional[int] = None
        self.verify = bool(verify)
        self.roots_info: Optional[str] = None
        lib = N.lib
        b = lib.smtp_tls_config_builder_new()
        tmp = None
        try:
            def check(rc):
                if rc != N.SMTP_OK:
                    msg = (lib.smtp_tls_config_builder_errmsg(b) or b"").decode("utf-8", "replace")
                    raise make_error(rc, msg, 0, b"")
            check(lib.smtp_tls_config_builder_set_default_roots(b, 1 if default_roots else 0))
            if roots is not None:
                check(lib.smtp_tls_config_builder_set_roots(b, _roots_bits(roots)))
                self.roots_info = (lib.smtp_tls_config_builder_errmsg(b) or b"").decode("utf-8", "replace")
            if cafile is not None:
                check(lib.smtp_tls_config_builder_add_ca_file(b, _path(cafile, "cafile")))
            if capath is not None:
                check(lib.smtp_tls_config_builder_add_ca_dir(b, _path(capath, "capath")))
            if cadata is not None:
                tmp = _write_pem(cadata)
                check(lib.smtp_tls_config_builder_add_ca_file(b, _path(tmp, "cadata")))
            for der in _optional_ders:
                # CAs read back from an ssl.SSLContext: one libsmtp cannot
                # parse is left out rather than failing the whole config.
                one = _write_pem(der)
                try:
                    lib.smtp_tls_config_builder_add_ca_file(b, _path(one, "cadata"))
                finally:
                    os.unlink(one)
            if certfile is not None or keyfile is not None:
                if certfile is None:
                    raise ValueError("keyfile without certfile")
                # smtplib/ssl: the key may be in the certificate file.
                check(lib.smtp_tls_config_builder_set_client_cert(
                    b, _path(certfile, "certfile"), _path(keyfile if keyfile is not None else certfile, "keyfile")))
            if server_hostname is not None:
                check(lib.smtp_tls_config_builder_set_server_name(b, _path(server_hostname, "server_hostname")))
            if not verify:
                check(lib.smtp_tls_config_builder_dangerous_disable_verification(b))
            out = N.c_void_p()
            check(lib.smtp_tls_config_builder_build(b, byref(out)))
            self._ptr = out.value
        finally:
            lib.smtp_tls_config_builder_free(b)
            if tmp is not None:
                os.unlink(tmp)

    @classmethod
    def from_ssl_context(cls, ctx: ssl.SSLContext) -> "TLSConfig":
        """Translate an ssl.SSLContext as far as libsmtp can express it:
        verify_mode CERT_NONE turns verification off; the CA certificates the
        context lists (get_ca_certs(): those loaded from a cafile or cadata,
        not a capath's, which ssl loads lazily) are trusted besides the
        Mozilla roots. A client certificate, check_hostname=False with
        verification on, ciphers and versions cannot be read back from an
        SSLContext and are not carried over (TLS 1.2 is always the minimum)."""
        if ctx.verify_mode == ssl.CERT_NONE:
            return cls(verify=False)
        return cls(_optional_ders=ctx.get_ca_certs(binary_form=True))

    def _handle(self):
        if self._ptr is None:
            raise ValueError("TLSConfig is closed")
        return self._ptr

    def close(self) -> None:
        """Free the configuration now (sessions given it keep their own reference)."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            N.lib.smtp_tls_config_free(ptr)

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self):
        return "<libsmtp.TLSConfig%s>" % ("" if self.verify else " verify=False")


def _write_pem(cadata):
    """cadata (PEM str, or DER bytes of one or more certificates) as a
    temporary PEM file; the caller removes it."""
    if isinstance(cadata, str):
        pem = cadata.encode("ascii")
    elif isinstance(cadata, (bytes, bytearray, memoryview)):
        pem = _der_to_pem(bytes(cadata))
    else:
        raise TypeError("cadata should be an ASCII string or a bytes-like object")
    fd, name = tempfile.mkstemp(prefix="libsmtp-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return name


def _der_to_pem(data):
    """One or more concatenated DER certificates to PEM."""
    out = []
    i = 0
    while i < len(data):
        # DER SEQUENCE: 0x30, then the length (short or long form).
        if data[i] != 0x30 or i + 2 > len(data):
            raise ValueError("cadata is not DER")
        first = data[i + 1]
        if first < 0x80:
            length, head = first, 2
        else:
            n = first & 0x7F
            length, head = int.from_bytes(data[i + 2:i + 2 + n], "big"), 2 + n
        end = i + head + length
        if end > len(data):
            raise ValueError("cadata is not DER")
        out.append(ssl.DER_cert_to_PEM_cert(data[i:end]).encode("ascii"))
        i = end
    return b"".join(out)


def create_default_context(purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH, *, cafile: Optional[StrPath] = None,
                           capath: Optional[StrPath] = None, cadata: Union[str, bytes, None] = None) -> TLSConfig:
    """ssl.create_default_context() for libsmtp: verified TLS, Mozilla roots
    plus the CAs given."""
    if purpose != ssl.Purpose.SERVER_AUTH:
        raise ValueError("libsmtp is a client: only Purpose.SERVER_AUTH")
    return TLSConfig(cafile=cafile, capath=capath, cadata=cadata)


def as_tls_config(context):
    """None, a TLSConfig, or an ssl.SSLContext -> TLSConfig or None."""
    if context is None or isinstance(context, TLSConfig):
        return context
    if isinstance(context, ssl.SSLContext):
        return TLSConfig.from_ssl_context(context)
    raise TypeError("context must be a libsmtp.TLSConfig, an ssl.SSLContext or None, not %s"
                    % type(context).__name__)
