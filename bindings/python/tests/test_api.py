"""The binding itself: loading, the error mapping, argument checks, and
behaviour shown with small scripted servers (replay.py)."""
import base64
import os
import pathlib
import smtplib
import socket
import subprocess
import sys
import threading

import pytest

import libsmtp
from libsmtp import _errors, _native as N
from replay import ScriptedServer

PKG = pathlib.Path(__file__).resolve().parents[1]
GREETING = {"s": "220 mx.example ESMTP ready\r\n"}
EHLO = [{"c": "ehlo client.example\r\n"}, {"s": "250-mx.example\r\n250 AUTH X-BIG\r\n"}]
QUIT = [{"c": "quit\r\n"}, {"s": "221 2.0.0 Bye\r\n"}, {"s_close": ""}]


def scripted(transcript):
    from replay import items
    return ScriptedServer(items({"transcript": transcript}))


def client(server, cls=libsmtp.SMTP):
    s = cls(local_hostname="client.example", timeout=5)
    assert s.connect("127.0.0.1", server.port)[0] == 220
    return s


# ---- loading --------------------------------------------------------------

def _import_in_child(env_changes):
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["PYTHONPATH"] = str(PKG)
    return subprocess.run([sys.executable, "-c", "import libsmtp; print(libsmtp.LIBRARY_PATH)"],
                          capture_output=True, text=True, env=env, timeout=60)


def test_loads_through_pkg_config():
    assert os.environ.get("PKG_CONFIG_PATH"), "test.sh exports PKG_CONFIG_PATH"
    out = _import_in_child({"LIBSMTP_PATH": None})
    assert out.returncode == 0, out.stderr
    libdir = subprocess.run(["pkg-config", "--variable=libdir", "smtp"], capture_output=True, text=True).stdout.strip()
    assert out.stdout.strip().startswith(libdir)


def test_libsmtp_path_wins():
    out = _import_in_child({"LIBSMTP_PATH": libsmtp.LIBRARY_PATH, "PKG_CONFIG_PATH": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == libsmtp.LIBRARY_PATH


def test_bad_libsmtp_path_is_import_error():
    out = _import_in_child({"LIBSMTP_PATH": "/nonexistent/libsmtp.so"})
    assert out.returncode != 0
    assert "ImportError" in out.stderr and "LIBSMTP_PATH" in out.stderr


def test_version():
    assert libsmtp.LIBRARY_VERSION.split(".")[0] == "0"


# ---- the error mapping ----------------------------------------------------

def test_every_result_code_has_an_exception():
    codes = {v for k, v in vars(N).items() if k.startswith("SMTP_ERR_")}
    assert codes == set(libsmtp.EXCEPTION_FOR_RESULT)
    classes = list(libsmtp.EXCEPTION_FOR_RESULT.values())
    assert len(classes) == len(set(classes)), "one class per result code"
    for rc, cls in libsmtp.EXCEPTION_FOR_RESULT.items():
        assert libsmtp.result_str(rc) != "unknown result code"
        if cls not in (TypeError, ValueError):
            assert issubclass(cls, smtplib.SMTPException)


def test_exceptions_follow_the_librarys_table():
    # Every code of the library, its name a module constant, its class the
    # smtplib exception the library names for it or a subclass of it.
    assert [c for c, _, _, _ in N.RESULTS] == sorted(c for c, _, _, _ in N.RESULTS)
    assert N.RESULTS[0][:3] == (0, "SMTP_OK", None)
    for code, name, exc, _ in N.RESULTS:
        assert getattr(N, name) == code
        if exc is not None:
            assert issubclass(libsmtp.EXCEPTION_FOR_RESULT[code], _errors.smtplib_class(exc)), name
    assert N.SMTP_ERR_TIMEOUT == 11 and N.SMTP_ERR_TOO_LARGE == 30  # ABI: fixed numbers
    assert libsmtp.EXCEPTION_FOR_RESULT[N.SMTP_ERR_CONNECT] is libsmtp.SMTPConnectFailedError
    assert issubclass(libsmtp.SMTPConnectFailedError, OSError)
    assert libsmtp.EXCEPTION_FOR_RESULT[N.SMTP_ERR_INVALID_ARGUMENT] is ValueError
    # The codes whose exception gets the server's reply: the library's answer.
    assert {name for code, name, _, _ in N.RESULTS if code in N.WITH_REPLY} == {
        "SMTP_ERR_RESPONSE", "SMTP_ERR_CONNECT_REPLY", "SMTP_ERR_HELO", "SMTP_ERR_AUTH",
        "SMTP_ERR_AUTH_ABORTED", "SMTP_ERR_SENDER_REFUSED", "SMTP_ERR_RECIPIENTS_REFUSED", "SMTP_ERR_DATA"}


def test_exceptions_are_smtplibs():
    for name in ("SMTPException", "SMTPNotSupportedError", "SMTPServerDisconnected", "SMTPResponseException",
                 "SMTPSenderRefused", "SMTPRecipientsRefused", "SMTPDataError", "SMTPConnectError",
                 "SMTPHeloError", "SMTPAuthenticationError"):
        assert getattr(libsmtp, name) is getattr(smtplib, name)
    assert issubclass(libsmtp.SMTPTimeoutError, libsmtp.SMTPServerDisconnected)
    assert issubclass(libsmtp.SMTPTimeoutError, TimeoutError)
    assert issubclass(libsmtp.SMTPIOError, libsmtp.SMTPServerDisconnected)
    assert issubclass(libsmtp.SMTPAuthenticationAborted, libsmtp.SMTPAuthenticationError)
    import ssl
    assert issubclass(libsmtp.SMTPTLSError, ssl.SSLError)
    assert str(libsmtp.SMTPTLSError("bad certificate")) == "bad certificate"


def test_smtplib_names():
    for name in smtplib.__all__:
        assert hasattr(libsmtp, name), name
    assert (libsmtp.SMTP_PORT, libsmtp.SMTP_SSL_PORT, libsmtp.LMTP_PORT) == (25, 465, 2003)


# ---- arguments --------------------------------------------------------------

def test_arguments_checked_before_sending():
    server = scripted([GREETING, {"c": "noop\r\n"}, {"s": "250 ok\r\n"}, *QUIT])
    s = client(server)
    with pytest.raises(ValueError):
        s.mail("<a@example.com>\r\nRSET")
    with pytest.raises(ValueError):
        s.rcpt("a\0b@example.com")
    with pytest.raises(ValueError):
        s.docmd("NOOP", "x\nRSET")
    with pytest.raises(ValueError):
        s.sendmail("a@example.com", [], "x")  # libsmtp: an empty list is refused up front
    with pytest.raises(TypeError):
        s.mail(42)
    with pytest.raises(TypeError):
        s.mail("a@example.com", "SMTPUTF8")  # options is a sequence, not a string
    with pytest.raises(UnicodeEncodeError):
        s.sendmail("a@example.com", ["b@example.com"], "Grüße")  # smtplib: str messages are ASCII
    with pytest.raises(ValueError):
        s.local_hostname = "two words"
    assert s.local_hostname == "client.example"
    assert s.noop() == (250, b"ok")
    assert s.quit() == (221, b"2.0.0 Bye")
    assert server.result() is None


def test_crlf_in_bare_address_refused():
    """CR or LF in an address is refused before anything is sent (smtplib
    3.13 raises ValueError too); the NOOP shows the session is in step."""
    server = scripted([GREETING, {"c": "noop\r\n"}, {"s": "250 ok\r\n"}, *QUIT])
    s = client(server)
    try:
        for bad in ("a@example.com\r\nRSET", "a\r@example.com"):
            with pytest.raises(ValueError):
                s.mail(bad)
            with pytest.raises(ValueError):
                s.rcpt(bad)
            with pytest.raises(ValueError):
                s.verify(bad)
            with pytest.raises(ValueError):
                s.expn(bad)
        assert s.noop()[0] == 250
    finally:
        s.close()
        server.result(timeout=1)


def test_timeout_zero_refused():
    s = libsmtp.SMTP(timeout=0)
    with pytest.raises(ValueError):
        s.connect("127.0.0.1", 25)


# ---- behaviour through scripted servers -------------------------------------

def test_auth_long_responses_in_one_call():
    big = b"x" * 5000
    calls = []

    def mech(challenge=None):
        calls.append(challenge)
        return big if challenge is None else "y" * 3000
    server = scripted([GREETING, *EHLO,
                       {"c": "AUTH X-BIG " + base64.b64encode(big).decode() + "\r\n"},
                       {"s": "334 " + base64.b64encode(b"more?").decode() + "\r\n"},
                       {"a": base64.b64encode(b"y" * 3000).decode() + "\r\n"},
                       {"s": "235 2.7.0 ok\r\n"}, *QUIT])
    s = client(server)
    s.ehlo()
    assert s.auth("x-big", mech) == (235, b"2.7.0 ok")
    assert calls == [None, b"more?"]  # each asked once (smtp_sasl_respond takes any length)
    s.quit()
    assert server.result() is None


def test_auth_callback_abort_sends_cancel():
    server = scripted([GREETING, *EHLO, {"c": "AUTH X-BIG\r\n"}, {"s": "334 \r\n"}, {"a": "*\r\n"},
                       {"s": "501 5.7.0 cancelled\r\n"}, {"c": "noop\r\n"}, {"s": "250 ok\r\n"}, *QUIT])
    s = client(server)
    s.ehlo()

    def mech(challenge=None):
        if challenge is None:
            return None
        raise RuntimeError("give up")
    with pytest.raises(RuntimeError, match="give up"):
        s.auth("X-BIG", mech)
    assert s.last_reply == (501, b"5.7.0 cancelled")
    assert s.noop() == (250, b"ok")
    s.quit()
    assert server.result() is None


def test_sender_refused_carries_sender():
    server = scripted([GREETING, *EHLO, {"c": "mail from:<spam@example.com>\r\n"},
                       {"s": "553 5.7.1 no\r\n"}, {"c": "rset\r\n"}, {"s": "250 ok\r\n"}, *QUIT])
    s = client(server)
    with pytest.raises(libsmtp.SMTPSenderRefused) as info:
        s.sendmail("spam@example.com", ["b@example.com"], b"x")
    assert (info.value.smtp_code, info.value.smtp_error, info.value.sender) == (553, b"5.7.1 no", "spam@example.com")
    assert info.value.args == (553, b"5.7.1 no", "spam@example.com")
    s.quit()
    assert server.result() is None


def test_send_message_sender_refused_names_header_sender():
    server = scripted([GREETING, *EHLO, {"c": "mail from:<alice@example.com>\r\n"},
                       {"s": "553 5.7.1 no\r\n"}, {"c": "rset\r\n"}, {"s": "250 ok\r\n"}, *QUIT])
    s = client(server)
    with pytest.raises(libsmtp.SMTPSenderRefused) as info:
        s.send_message("From: Alice <alice@example.com>\r\nTo: b@example.com\r\n\r\nhi\r\n")
    assert info.value.sender == "alice@example.com"
    s.quit()
    assert server.result() is None


def test_lmtp_reply_per_recipient():
    server = scripted([GREETING, {"c": "lhlo client.example\r\n"}, {"s": "250-mx.example\r\n250 8BITMIME\r\n"},
                       {"c": "mail from:<a@example.com>\r\n"}, {"s": "250 ok\r\n"},
                       {"c": "rcpt to:<b@example.com>\r\n"}, {"s": "250 ok\r\n"},
                       {"c": "rcpt to:<c@example.com>\r\n"}, {"s": "250 ok\r\n"},
                       {"c": "data\r\n"}, {"s": "354 go\r\n"}, {"d": "Subject: x\r\n\r\nhi\r\n.\r\n"},
                       {"s": "250 2.0.0 b delivered\r\n452 4.2.2 c is over quota\r\n"}, *QUIT])
    s = client(server, libsmtp.LMTP)
    assert s.sendmail("a@example.com", ["b@example.com", "c@example.com"], "Subject: x\r\n\r\nhi\r\n") == {
        "c@example.com": (452, b"4.2.2 c is over quota")}
    r = s.rcpt_results()
    assert [x.data_code for x in r] == [250, 452]
    s.quit()
    assert server.result() is None


def test_timeout_is_smtp_timeout_error():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    held = []
    t = threading.Thread(target=lambda: held.append(lsock.accept()), daemon=True)
    t.start()
    s = libsmtp.SMTP(timeout=0.3)
    try:
        with pytest.raises(libsmtp.SMTPTimeoutError) as info:
            s.connect("127.0.0.1", lsock.getsockname()[1])  # accepted, no greeting
        assert isinstance(info.value, TimeoutError)
        assert isinstance(info.value, smtplib.SMTPServerDisconnected)
        assert not s.connected
    finally:
        t.join(5)
        for conn, _ in held:
            conn.close()
        lsock.close()


def test_connect_error_greeting():
    server = scripted([{"s": "554 5.3.2 go away\r\n"}, {"c_close": ""}])
    with pytest.raises(libsmtp.SMTPConnectError) as info:
        libsmtp.SMTP("127.0.0.1", server.port, local_hostname="client.example")
    assert (info.value.smtp_code, info.value.smtp_error) == (554, b"5.3.2 go away")
    assert server.result() is None


def test_trace_callback_exception_is_reraised(monkeypatch):
    server = scripted([GREETING, {"c": "noop\r\n"}, {"s": "250 ok\r\n"}, {"c": "noop\r\n"}, {"s": "250 ok\r\n"},
                       *QUIT])
    s = client(server)

    class Broken:
        def write(self, _):
            raise OSError("stderr is gone")

        def flush(self):
            pass
    s.set_debuglevel(1)
    monkeypatch.setattr(sys, "stderr", Broken())
    with pytest.raises(OSError, match="stderr is gone"):
        s.noop()
    monkeypatch.undo()
    s.set_debuglevel(0)
    assert s.noop() == (250, b"ok")
    s.quit()
    assert server.result() is None


def test_ehlo_state_attributes_types():
    server = scripted([GREETING, {"c": "helo client.example\r\n"}, {"s": "250 mx.example\r\n"},
                       {"c": "ehlo other.example\r\n"}, {"s": "250-mx.example\r\n250-SIZE 100\r\n250 DSN\r\n"},
                       *QUIT])
    s = client(server)
    assert s.helo() == (250, b"mx.example")
    assert s.helo_resp == b"mx.example" and s.ehlo_resp is None and s.does_esmtp is False
    assert s.ehlo("other.example") == (250, b"mx.example\nSIZE 100\nDSN")
    assert s.esmtp_features == {"size": "100", "dsn": ""}
    assert s.does_esmtp is True and s.has_extn("SIZE") and not s.has_extn("auth")
    s.quit()
    assert s.helo_resp is None and s.esmtp_features == {}
    assert server.result() is None


def test_del_frees_session():
    import gc
    import weakref
    s = libsmtp.SMTP()
    ref = weakref.ref(s)
    s.set_debuglevel(1)  # a trace callback: no reference cycle keeps the object alive
    s.set_debuglevel(0)
    del s
    assert ref() is None
    gc.collect()
