"""Loading libsmtp.so and declaring its C functions for ctypes.

Where the library comes from, first match wins:

1. ``libsmtp.so.0`` next to this file: the copy a platform wheel bundles
   (bindings/python/dist.sh puts it there; a source checkout has none);
2. ``LIBSMTP_PATH``: the path of ``libsmtp.so`` itself;
3. ``pkg-config --variable=libdir smtp`` (``PKG_CONFIG_PATH`` is honoured):
   ``libsmtp.so`` in that directory;
4. ``ctypes.util.find_library("smtp")`` (the system's linker paths).

Nothing else: no other path is hard-coded. Every function the header
declares is bound here or named, with the reason, in ``NOT_BOUND``
(tests/test_coverage.py holds the two lists against include/smtp.h).
"""
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int64, c_size_t, c_ssize_t,
                    c_uint, c_uint16, c_uint32, c_uint64, c_void_p)

# The major version this binding is written for (the SONAME is libsmtp.so.0).
ABI_MAJOR = 0

# Result codes (enum smtp_result in smtp.h): SMTP_OK and the SMTP_ERR_*
# constants are set below from the library's own table (RESULTS).

SMTP_AUTH_NO_INITIAL_RESPONSE = 1
SMTP_AUTH_ALLOW_CLEARTEXT = 2
SMTP_SASL_CONTINUE = 100
SMTP_SASL_NO_INITIAL_RESPONSE = 101
SMTP_SASL_NEED_SPACE = 102

SMTP_MSG_NORMALIZE = 0
SMTP_MSG_RAW = 1
SMTP_MSG_REJECT_BARE_EOL = 2

SMTP_KIND_SMTP = 0
SMTP_KIND_SMTP_SSL = 1
SMTP_KIND_LMTP = 2

SMTP_TIMEOUT_CONNECT = 0
SMTP_TIMEOUT_IO = 1
SMTP_TIMEOUT_REPLY = 2
SMTP_TIMEOUT_GREETING = 3
SMTP_TIMEOUT_MAIL = 4
SMTP_TIMEOUT_RCPT = 5
SMTP_TIMEOUT_DATA = 6
SMTP_TIMEOUT_DATA_BLOCK = 7
SMTP_TIMEOUT_FINAL_DOT = 8
SMTP_TIMEOUT_CALL = 9
SMTP_TIMEOUT_ALL = 10  # every limit on a single wait (0-8), not SMTP_TIMEOUT_CALL

SMTP_TRACE_INFO = 0
SMTP_TRACE_SEND = 1
SMTP_TRACE_RECV = 2

SMTP_DSN_RET_FULL = 1
SMTP_DSN_RET_HDRS = 2
SMTP_DSN_NOTIFY_SUCCESS = 1
SMTP_DSN_NOTIFY_FAILURE = 2
SMTP_DSN_NOTIFY_DELAY = 4
SMTP_DSN_NOTIFY_NEVER = 8
SMTP_BODY_7BIT = 1
SMTP_BODY_8BITMIME = 2
SMTP_BODY_BINARYMIME = 3

SMTP_ROOTS_MOZILLA = 1
SMTP_ROOTS_SYSTEM = 2

SMTP_POOL_STARTTLS = 0
SMTP_POOL_MAX_MESSAGES = 1
SMTP_POOL_MAX_IDLE_MS = 2
SMTP_POOL_PROBE_IDLE_MS = 3
SMTP_POOL_RATE = 4
SMTP_POOL_MAX_CONNECTIONS = 5

SMTP_POOL_STAT_OPENED = 0
SMTP_POOL_STAT_OPEN = 1
SMTP_POOL_STAT_IDLE = 2
SMTP_POOL_STAT_SENT = 3
SMTP_POOL_STAT_RETRIED = 4
SMTP_POOL_STAT_PROBED = 5
SMTP_POOL_STAT_PROBE_FAILED = 6
SMTP_POOL_STAT_RETIRED = 7
SMTP_POOL_STAT_UNKNOWN = 8

SMTP_DKIM_SIMPLE = 1
SMTP_DKIM_RELAXED = 2

# typedef int (*smtp_sasl_step_fn)(void *userdata, const uint8_t *challenge, size_t challenge_len,
#                                  smtp_sasl_exchange *x);
SASL_STEP_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p)
# typedef void (*smtp_trace_fn)(void *userdata, int direction, const char *line, size_t len);
TRACE_FN = CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_size_t)
# typedef ptrdiff_t (*smtp_read_fn)(void *userdata, uint8_t *buf, size_t cap);
READ_FN = CFUNCTYPE(c_ssize_t, c_void_p, c_void_p, c_size_t)


class RcptInfo(Structure):
    """struct smtp_rcpt_info (its layout is fixed within 0.x)."""
    _fields_ = [("addr", c_char_p), ("refused", c_int), ("code", c_int), ("text", c_char_p),
                ("status", c_char_p), ("data_code", c_int), ("data_text", c_char_p),
                ("data_status", c_char_p), ("final_code", c_int), ("final_text", c_char_p),
                ("final_status", c_char_p)]


class BatchItem(Structure):
    """struct smtp_batch_item (its layout is fixed within 0.x)."""
    _fields_ = [("from_", c_char_p), ("to", POINTER(c_char_p)), ("to_count", c_size_t),
                ("msg", c_char_p), ("len", c_size_t), ("flags", c_uint), ("result", c_int),
                ("refused_count", c_size_t), ("rcpt_codes", POINTER(c_int))]


_S = c_void_p  # smtp_session *
_B = c_void_p  # smtp_tls_config_builder *
_C = c_void_p  # smtp_tls_config *
_E = c_void_p  # smtp_envelope *
_P = c_void_p  # smtp_pool *
_X = c_void_p  # smtp_sasl_exchange *
_D = c_void_p  # smtp_dkim *
_STRS = POINTER(c_char_p)
_CODE = POINTER(c_int)
_COUNT = POINTER(c_size_t)
_ITEMS = POINTER(BatchItem)

# Functions of the header this binding does not call, and why. Everything
# else in include/smtp.h is in _PROTOTYPES (tests/test_coverage.py).
NOT_BOUND = {
    # The buffer form of the SASL callback (smtp_sasl_fn) with its
    # NEED_SPACE retry: the binding uses the step form (smtp_sasl_step_fn,
    # smtp_sasl_respond), whose responses have any length.
    "smtp_session_auth": "the step form (smtp_session_auth_step) is used",
    "smtp_pool_set_auth": "the step form (smtp_pool_set_auth_step) is used",
    # One field per call: smtp_session_rcpt_info gives them all in one record.
    "smtp_session_rcpt_addr": "smtp_session_rcpt_info",
    "smtp_session_rcpt_code": "smtp_session_rcpt_info",
    "smtp_session_rcpt_text": "smtp_session_rcpt_info",
    "smtp_session_rcpt_status": "smtp_session_rcpt_info",
    "smtp_session_rcpt_refused": "smtp_session_rcpt_info",
    "smtp_session_rcpt_data_code": "smtp_session_rcpt_info",
    "smtp_session_rcpt_data_text": "smtp_session_rcpt_info",
    "smtp_session_rcpt_data_status": "smtp_session_rcpt_info",
    # A read function for bindings whose code cannot run on the call's
    # thread; ctypes callbacks can, so streams use a Python smtp_read_fn.
    "smtp_session_sendmail_fd": "sendmail_stream's Python smtp_read_fn reads on the call's thread",
}
# The message builder: Python composes with its own email package
# (email.message.EmailMessage, sent by send_message; issue 16: "Python and
# Node keep their own"). Its DKIM signer is bound (libsmtp.DKIMSigner) for
# the raw messages Python sends.
NOT_BOUND.update(dict.fromkeys((
    "smtp_message_new", "smtp_message_free", "smtp_message_errmsg", "smtp_message_set_from",
    "smtp_message_set_sender", "smtp_message_add_to", "smtp_message_add_cc", "smtp_message_add_bcc",
    "smtp_message_add_reply_to", "smtp_message_set_subject", "smtp_message_set_date",
    "smtp_message_set_message_id", "smtp_message_add_header", "smtp_message_set_text",
    "smtp_message_set_html", "smtp_message_attach_memory", "smtp_message_attach_file",
    "smtp_message_attach_callback", "smtp_message_add_inline_memory", "smtp_message_add_inline_file",
    "smtp_message_set_dkim", "smtp_message_write", "smtp_message_bytes",
    "smtp_session_send_composed", "smtp_pool_send_composed",
), "Python composes with its email package (EmailMessage, send_message); DKIMSigner signs the result"))

# name: (restype, argtypes)
_PROTOTYPES = {
    "smtp_lib_version": (c_char_p, []),
    "smtp_lib_version_number": (c_uint32, []),
    "smtp_result_str": (c_char_p, [c_int]),
    "smtp_result_name": (c_char_p, [c_int]),
    "smtp_result_exception": (c_char_p, [c_int]),
    "smtp_result_has_reply": (c_int, [c_int]),
    "smtp_result_count": (c_size_t, []),
    "smtp_result_code_at": (c_int, [c_size_t]),
    "smtp_session_new": (_S, [c_int]),
    "smtp_session_free": (None, [_S]),
    "smtp_session_set_local_hostname": (c_int, [_S, c_char_p]),
    "smtp_session_set_timeout_ms": (c_int, [_S, c_int, c_uint32]),
    "smtp_session_timeout_ms": (c_int64, [_S, c_int]),
    "smtp_session_set_source_address": (c_int, [_S, c_char_p, c_uint16]),
    "smtp_session_set_debuglevel": (c_int, [_S, c_int]),
    "smtp_session_set_trace": (c_int, [_S, TRACE_FN, c_void_p]),
    "smtp_session_connect": (c_int, [_S, c_char_p, c_uint16, POINTER(c_int)]),
    "smtp_session_open": (c_int, [_S, c_char_p, c_uint16, POINTER(c_int)]),
    "smtp_session_cancel": (c_int, [_S]),
    "smtp_session_close": (c_int, [_S]),
    "smtp_session_errmsg": (c_char_p, [_S]),
    "smtp_session_last_reply_code": (c_int, [_S]),
    "smtp_session_last_reply_text": (c_char_p, [_S]),
    "smtp_session_is_connected": (c_int, [_S]),
    "smtp_session_does_esmtp": (c_int, [_S]),
    "smtp_session_ehlo_resp": (c_char_p, [_S]),
    "smtp_session_helo_resp": (c_char_p, [_S]),
    "smtp_session_has_extn": (c_int, [_S, c_char_p]),
    "smtp_session_feature_count": (c_size_t, [_S]),
    "smtp_session_feature_name": (c_char_p, [_S, c_size_t]),
    "smtp_session_feature_params": (c_char_p, [_S, c_size_t]),
    "smtp_session_feature": (c_char_p, [_S, c_char_p]),
    "smtp_session_helo": (c_int, [_S, c_char_p, POINTER(c_int)]),
    "smtp_session_ehlo": (c_int, [_S, c_char_p, POINTER(c_int)]),
    "smtp_session_ehlo_or_helo_if_needed": (c_int, [_S]),
    "smtp_session_docmd": (c_int, [_S, c_char_p, c_char_p, POINTER(c_int)]),
    "smtp_session_noop": (c_int, [_S, POINTER(c_int)]),
    "smtp_session_rset": (c_int, [_S, POINTER(c_int)]),
    "smtp_session_help": (c_int, [_S, c_char_p, POINTER(c_int)]),
    "smtp_session_verify": (c_int, [_S, c_char_p, POINTER(c_int)]),
    "smtp_session_expn": (c_int, [_S, c_char_p, POINTER(c_int)]),
    "smtp_session_mail": (c_int, [_S, c_char_p, _STRS, c_size_t, POINTER(c_int)]),
    "smtp_session_rcpt": (c_int, [_S, c_char_p, _STRS, c_size_t, POINTER(c_int)]),
    "smtp_session_data": (c_int, [_S, c_char_p, c_size_t, c_uint, POINTER(c_int)]),
    "smtp_session_sendmail": (c_int, [_S, c_char_p, _STRS, c_size_t, c_char_p, c_size_t,
                                      _STRS, c_size_t, _STRS, c_size_t, c_uint,
                                      POINTER(c_int), POINTER(c_size_t)]),
    "smtp_session_send_message": (c_int, [_S, c_char_p, c_size_t, c_char_p, _STRS, c_size_t,
                                          _STRS, c_size_t, _STRS, c_size_t, c_uint,
                                          POINTER(c_size_t)]),
    "smtp_session_quit": (c_int, [_S, POINTER(c_int)]),
    "smtp_session_send": (c_int, [_S, c_char_p, c_size_t]),
    "smtp_session_getreply": (c_int, [_S, POINTER(c_int)]),
    "smtp_session_fileno": (c_int, [_S]),
    "smtp_session_utf8_commands": (c_int, [_S]),
    "smtp_session_rcpt_count": (c_size_t, [_S]),
    "smtp_session_rcpt_info": (c_int, [_S, c_size_t, POINTER(RcptInfo)]),
    "smtp_session_sender": (c_char_p, [_S]),
    "smtp_session_set_pipelining": (c_int, [_S, c_int]),
    "smtp_session_set_chunking": (c_int, [_S, c_int]),
    "smtp_session_sendmail_stream": (c_int, [_S, c_char_p, _STRS, c_size_t, READ_FN, c_void_p, c_int64,
                                             _STRS, c_size_t, _STRS, c_size_t, c_uint, _CODE, _COUNT]),
    "smtp_session_sendmail_batch": (c_int, [_S, _ITEMS, c_size_t]),
    "smtp_envelope_new": (_E, []),
    "smtp_envelope_errmsg": (c_char_p, [_E]),
    "smtp_envelope_free": (None, [_E]),
    "smtp_envelope_set_dsn_ret": (c_int, [_E, c_int]),
    "smtp_envelope_set_dsn_envid": (c_int, [_E, c_char_p]),
    "smtp_envelope_set_dsn_notify": (c_int, [_E, c_uint]),
    "smtp_envelope_set_rcpt_dsn": (c_int, [_E, c_char_p, c_uint, c_char_p]),
    "smtp_envelope_set_smtputf8": (c_int, [_E, c_int]),
    "smtp_envelope_set_body": (c_int, [_E, c_int]),
    "smtp_envelope_set_requiretls": (c_int, [_E, c_int]),
    "smtp_envelope_set_mt_priority": (c_int, [_E, c_int]),
    "smtp_envelope_set_deliver_by": (c_int, [_E, c_int64, c_int, c_int]),
    "smtp_session_set_envelope": (c_int, [_S, _E]),
    "smtp_sasl_respond": (c_int, [_X, c_char_p, c_size_t]),
    "smtp_session_login": (c_int, [_S, c_char_p, c_char_p, c_uint]),
    "smtp_session_set_auth_mechanisms": (c_int, [_S, c_char_p]),
    "smtp_session_auth_step": (c_int, [_S, c_char_p, SASL_STEP_FN, c_void_p, c_uint]),
    "smtp_session_set_debug_secrets": (c_int, [_S, c_int]),
    "smtp_session_auth_builtin": (c_int, [_S, c_char_p, c_char_p, c_char_p, c_uint]),
    "smtp_session_set_trust_loopback": (c_int, [_S, c_int]),
    "smtp_session_set_tls_config": (c_int, [_S, _C]),
    "smtp_session_starttls": (c_int, [_S, _C, POINTER(c_int)]),
    "smtp_session_set_require_tls": (c_int, [_S, c_int]),
    "smtp_session_is_encrypted": (c_int, [_S]),
    "smtp_session_tls_version": (c_char_p, [_S]),
    "smtp_session_tls_cipher": (c_char_p, [_S]),
    "smtp_tls_config_builder_new": (_B, []),
    "smtp_tls_config_builder_free": (None, [_B]),
    "smtp_tls_config_builder_errmsg": (c_char_p, [_B]),
    "smtp_tls_config_builder_add_ca_file": (c_int, [_B, c_char_p]),
    "smtp_tls_config_builder_add_ca_dir": (c_int, [_B, c_char_p]),
    "smtp_tls_config_builder_set_default_roots": (c_int, [_B, c_int]),
    "smtp_tls_config_builder_set_roots": (c_int, [_B, c_uint]),
    "smtp_tls_config_builder_set_client_cert": (c_int, [_B, c_char_p, c_char_p]),
    "smtp_tls_config_builder_set_server_name": (c_int, [_B, c_char_p]),
    "smtp_tls_config_builder_dangerous_disable_verification": (c_int, [_B]),
    "smtp_tls_config_builder_build": (c_int, [_B, POINTER(_C)]),
    "smtp_tls_config_free": (None, [_C]),
    "smtp_session_set_proxy": (c_int, [_S, c_char_p]),
    "smtp_session_connect_fd": (c_int, [_S, c_int, c_char_p, _CODE]),
    "smtp_pool_new": (c_int, [_S, c_char_p, c_uint16, c_uint, POINTER(_P)]),
    "smtp_pool_free": (None, [_P]),
    "smtp_pool_set_option": (c_int, [_P, c_int, c_uint64]),
    "smtp_pool_stat": (c_uint64, [_P, c_int]),
    "smtp_pool_set_login": (c_int, [_P, c_char_p, c_char_p, c_uint]),
    "smtp_pool_set_auth_step": (c_int, [_P, c_char_p, SASL_STEP_FN, c_void_p, c_uint]),
    "smtp_pool_sendmail": (c_int, [_P, _S, c_char_p, _STRS, c_size_t, c_char_p, c_size_t,
                                   _STRS, c_size_t, _STRS, c_size_t, c_uint, _CODE, _COUNT]),
    "smtp_pool_send_message": (c_int, [_P, _S, c_char_p, c_size_t, c_char_p, _STRS, c_size_t,
                                       _STRS, c_size_t, _STRS, c_size_t, c_uint, _COUNT]),
    "smtp_pool_sendmail_batch": (c_int, [_P, _S, _ITEMS, c_size_t]),
    "smtp_dkim_new": (_D, []),
    "smtp_dkim_free": (None, [_D]),
    "smtp_dkim_errmsg": (c_char_p, [_D]),
    "smtp_dkim_set_key_pem": (c_int, [_D, c_char_p, c_size_t]),
    "smtp_dkim_set_domain": (c_int, [_D, c_char_p]),
    "smtp_dkim_set_selector": (c_int, [_D, c_char_p]),
    "smtp_dkim_set_headers": (c_int, [_D, _STRS, c_size_t]),
    "smtp_dkim_set_canonicalization": (c_int, [_D, c_int, c_int]),
    "smtp_dkim_sign": (c_int, [_D, c_char_p, c_size_t, POINTER(c_char_p)]),
    "smtp_dkim_dns_record": (c_int, [_D, POINTER(c_char_p)]),
}


def _pkg_config_libdir():
    exe = shutil.which("pkg-config") or shutil.which("pkgconf")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--variable=libdir", "smtp"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = out.stdout.strip()
    return libdir if out.returncode == 0 and libdir else None


# The copy a platform wheel bundles, beside this file.
BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libsmtp.so.%d" % ABI_MAJOR)


def _candidates():
    """(how it was found, path or name) in the order they are tried."""
    found = []
    if os.path.exists(BUNDLED):
        found.append(("bundled", BUNDLED))
    env = os.environ.get("LIBSMTP_PATH")
    if env:
        # An explicit choice: nothing but a bundled copy is tried before it,
        # nothing after it.
        return found + [("LIBSMTP_PATH", env)]
    libdir = _pkg_config_libdir()
    if libdir:
        names = ["libsmtp.dylib"] if sys.platform == "darwin" else ["libsmtp.so", "libsmtp.so.%d" % ABI_MAJOR]
        for name in names:
            path = os.path.join(libdir, name)
            if os.path.exists(path):
                found.append(("pkg-config libdir", path))
                break
    name = ctypes.util.find_library("smtp")
    if name:
        found.append(("ctypes.util.find_library", name))
    return found


def _load():
    tried = []
    for how, where in _candidates():
        try:
            lib = ctypes.CDLL(where)
        except OSError as e:
            tried.append("%s (%s): %s" % (where, how, e))
            continue
        missing = [n for n in _PROTOTYPES if not hasattr(lib, n)]
        if missing:
            tried.append("%s (%s): not libsmtp, it lacks %s" % (where, how, ", ".join(missing[:3])))
            continue
        for fname, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, fname)
            fn.restype = restype
            fn.argtypes = argtypes
        version = lib.smtp_lib_version().decode("ascii", "replace")
        try:
            major = int(version.split(".")[0])
        except ValueError:
            major = -1
        if major != ABI_MAJOR:
            tried.append("%s (%s): version %s, this binding needs %d.x" % (where, how, version, ABI_MAJOR))
            continue
        return lib, where, version
    raise ImportError(
        "libsmtp: cannot load libsmtp.so; set LIBSMTP_PATH to its path, or PKG_CONFIG_PATH so that "
        "`pkg-config --variable=libdir smtp` finds it"
        + ("; tried: " + "; ".join(tried) if tried else " (nothing found)"))


lib, LIBRARY_PATH, LIBRARY_VERSION = _load()
# MAJOR << 16 | MINOR << 8 | PATCH (smtp_lib_version_number()).
LIBRARY_VERSION_NUMBER = int(lib.smtp_lib_version_number())


def _results():
    """The library's result-code table: (code, C name, smtplib exception
    name or None, carries a server reply) per code, in increasing order."""
    rows = []
    for i in range(lib.smtp_result_count()):
        code = lib.smtp_result_code_at(i)
        exc = lib.smtp_result_exception(code)
        rows.append((code, lib.smtp_result_name(code).decode("ascii"),
                     exc.decode("ascii") if exc else None, bool(lib.smtp_result_has_reply(code))))
    return tuple(rows)


RESULTS = _results()
# Declared for type checkers; the values are the library's (below).
SMTP_OK: int
SMTP_ERR_INVALID_ARGUMENT: int
SMTP_ERR_CONNECT: int
SMTP_ERR_TIMEOUT: int
SMTP_ERR_CANCELLED: int
SMTP_ERR_SENDER_REFUSED: int
SMTP_ERR_RECIPIENTS_REFUSED: int
SMTP_ERR_TOO_LARGE: int
# SMTP_OK, SMTP_ERR_TIMEOUT, ...: the header's names for the library's numbers.
globals().update({name: code for code, name, _, _ in RESULTS})
# The codes whose error carries the server reply behind it (its last reply).
WITH_REPLY = frozenset(code for code, _, _, reply in RESULTS if reply)


def result_str(rc):
    """smtp_result_str(): the static description of a result code."""
    return lib.smtp_result_str(rc).decode("utf-8", "replace")
