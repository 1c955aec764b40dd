"""libsmtp against real aiosmtpd servers (tests/servers/), and against
CPython's smtplib talking to the same servers."""
import email.message
import email.policy
import errno
import pathlib
import smtplib
import ssl

import pytest

import libsmtp
from conftest import run_in_threads

MSG = (b"From: alice@example.com\r\nTo: bob@example.com, refuse-me@example.com\r\n"
       b"Subject: hello from Python\r\n\r\nHello.\r\n.a line starting with a dot\r\nbye\r\n")


def test_message_arrives_byte_identical(sink):
    with libsmtp.SMTP("127.0.0.1", sink.port, timeout=10) as s:
        refused = s.sendmail("alice@example.com", ["bob@example.com"], MSG)
    assert refused == {}
    [(eml, env)] = sink.messages()
    assert eml == MSG
    assert env["mail_from"] == "alice@example.com"
    assert env["rcpt_tos"] == ["bob@example.com"]


def test_refused_recipients_like_smtplib(sink):
    to = ["bob@example.com", "refuse-me@example.com", "carol@example.com", "refuse2@example.com"]
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
        want = s.sendmail("alice@example.com", to, MSG)
    with libsmtp.SMTP("127.0.0.1", sink.port, timeout=10) as s:
        got = s.sendmail("alice@example.com", to, MSG)
        results = s.rcpt_results()
    assert got == want == {
        "refuse-me@example.com": (550, b"5.1.1 <refuse-me@example.com>: Recipient address rejected"),
        "refuse2@example.com": (550, b"5.1.1 <refuse2@example.com>: Recipient address rejected"),
    }
    (eml1, env1), (eml2, env2) = sink.messages()
    assert eml1 == eml2 == MSG
    assert env1 == env2
    assert env2["rcpt_tos"] == ["bob@example.com", "carol@example.com"]
    assert [r.refused for r in results] == [False, True, False, True]
    assert results[1].code == 550 and results[1].address == "refuse-me@example.com"


def test_str_message_normalised_like_smtplib(sink):
    text = "Subject: lf only\n\nline one\nline two\r\n.dot\n"
    with smtplib.SMTP("127.0.0.1", sink.port) as s:
        s.sendmail("a@example.com", "b@example.com", text)
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        s.sendmail("a@example.com", "b@example.com", text)
    (want, _), (got, _) = sink.messages()
    assert got == want == b"Subject: lf only\r\n\r\nline one\r\nline two\r\n.dot\r\n"


def test_all_recipients_refused(sink):
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        with pytest.raises(libsmtp.SMTPRecipientsRefused) as info:
            s.sendmail("alice@example.com", ["refuse1@example.com", "refuse2@example.com"], MSG)
        assert isinstance(info.value, smtplib.SMTPRecipientsRefused)
        assert info.value.recipients == {
            "refuse1@example.com": (550, b"5.1.1 <refuse1@example.com>: Recipient address rejected"),
            "refuse2@example.com": (550, b"5.1.1 <refuse2@example.com>: Recipient address rejected"),
        }
        # smtplib sends RSET: the session goes on.
        assert s.noop()[0] == 250
        assert s.sendmail("alice@example.com", "bob@example.com", MSG) == {}
    assert len(sink.messages()) == 1


def test_connect_to_closed_port_raises(sink):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(libsmtp.SMTPConnectFailedError) as info:
        libsmtp.SMTP("127.0.0.1", port, timeout=5)
    assert isinstance(info.value, ConnectionError) and isinstance(info.value, OSError)
    assert isinstance(info.value, smtplib.SMTPException)
    assert info.value.libsmtp_result == 10
    assert info.value.errno == errno.ECONNREFUSED
    s = libsmtp.SMTP()
    with pytest.raises(OSError):
        s.connect("127.0.0.1", port)
    assert not s.connected
    # The object stays usable: connect somewhere that answers.
    assert s.connect("127.0.0.1", sink.port)[0] == 220
    s.quit()


def test_send_message_email_message(sink):
    msg = email.message.EmailMessage()
    msg["From"] = "Alice <alice@example.com>"
    msg["To"] = "bob@example.com, Refused <refuse@example.com>"
    msg["Cc"] = "carol@example.com"
    msg["Bcc"] = "dave@example.com"
    msg["Subject"] = "Grüße aus Python"
    msg.set_content("Hallo Welt.\n.leading dot\nZweite Zeile.\n")
    with smtplib.SMTP("127.0.0.1", sink.port) as s:
        want = s.send_message(msg)
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        got = s.send_message(msg)
    assert got == want == {"refuse@example.com": (550, b"5.1.1 <refuse@example.com>: Recipient address rejected")}
    (want_eml, want_env), (got_eml, got_env) = sink.messages()
    assert got_eml == want_eml
    assert b"Bcc" not in got_eml and b"dave@example.com" not in got_eml
    assert got_env["mail_from"] == want_env["mail_from"] == "alice@example.com"
    assert sorted(got_env["rcpt_tos"]) == sorted(want_env["rcpt_tos"]) == \
        ["bob@example.com", "carol@example.com", "dave@example.com"]
    # What arrives is what as_bytes() gives with CRLF line ends, minus Bcc.
    flat = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    assert got_eml == b"".join(line for line in flat.splitlines(True) if not line.startswith(b"Bcc:"))


def test_send_message_explicit_envelope_and_raw_bytes(sink):
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: raw\r\n\r\nbody\r\n"
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        assert s.send_message(raw) == {}
        assert s.send_message(raw, from_addr="other@example.com", to_addrs="x@example.com") == {}
    (e1, env1), (e2, env2) = sink.messages()
    assert e1 == e2 == raw
    assert env1["rcpt_tos"] == ["b@example.com"]
    assert (env2["mail_from"], env2["rcpt_tos"]) == ("other@example.com", ["x@example.com"])


def test_smtputf8_send_message(sink):
    msg = email.message.EmailMessage()
    msg["From"] = "jörg@exämple.com"
    msg["To"] = "佐藤@example.jp"
    msg["Subject"] = "utf8"
    msg.set_content("Hallo Jörg\n")
    with smtplib.SMTP("127.0.0.1", sink.port) as s:
        s.send_message(msg)
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        assert s.send_message(msg) == {}
    (want, want_env), (got, got_env) = sink.messages()
    assert got == want
    assert got_env["mail_from"] == "jörg@exämple.com" and got_env["rcpt_tos"] == ["佐藤@example.jp"]
    assert "SMTPUTF8" in got_env["mail_options"]


def test_context_manager_quits(sink):
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        s.ehlo()
        assert s.does_esmtp and s.connected
        assert s.has_extn("8bitmime") and "size" in s.esmtp_features
        assert s.ehlo_resp.startswith(b"sink.test")
    assert not s.connected and not s.does_esmtp and s.ehlo_resp is None
    s.close()
    s.close()  # double close is fine
    s.free()
    s.free()
    with pytest.raises(libsmtp.SMTPServerDisconnected):
        s.noop()


def test_debuglevel_prints_to_sys_stderr(sink, capsys):
    with libsmtp.SMTP("127.0.0.1", sink.port) as s:
        s.set_debuglevel(1)
        s.noop()
        s.set_debuglevel(0)
        s.noop()
    err = capsys.readouterr().err
    assert "send: 'noop\\r\\n'" in err
    assert "reply: " in err
    assert err.count("noop") == 1


def test_sessions_on_threads(sink):
    def send(n):
        with libsmtp.SMTP("127.0.0.1", sink.port) as s:
            for _ in range(3):
                s.sendmail("t%d@example.com" % n, ["bob@example.com"], MSG)
    assert run_in_threads(send, 4) == []
    assert len(sink.messages()) == 12


# ---- authentication -------------------------------------------------------

def test_login(auth_server):
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        code, msg = s.login("alice", "s3cret")
        assert code == 235 and isinstance(msg, bytes)
        # smtplib: a second login on an authenticated session is 503, success.
        assert s.login("alice", "s3cret")[0] in (235, 503)


def test_login_refused(auth_server):
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        with pytest.raises(libsmtp.SMTPAuthenticationError) as info:
            s.login("alice", "wrong")
        assert info.value.smtp_code == 535
        assert isinstance(info.value, smtplib.SMTPAuthenticationError)
        assert s.noop()[0] == 250


def test_login_other_mechanisms(auth_server):
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.set_auth_mechanisms(["SCRAM-SHA-256"])
        assert s.login("user", "pencil")[0] == 235
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.set_auth_mechanisms("XOAUTH2")
        assert s.login("alice@example.com", "good-token")[0] == 235
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.set_auth_mechanisms("XOAUTH2")
        with pytest.raises(libsmtp.SMTPAuthenticationError) as info:
            s.login("alice@example.com", "bad-token")
        assert info.value.smtp_code == 535


def test_auth_with_smtplib_authobjects(auth_server):
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.ehlo()
        s.user, s.password = "alice", "s3cret"
        assert s.auth("login", s.auth_login)[0] == 235
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.ehlo()
        s.user, s.password = "alice", "s3cret"
        assert s.auth("PLAIN", s.auth_plain, initial_response_ok=False)[0] == 235


def test_auth_callback(auth_server):
    seen = []

    def x_token(challenge=None):
        seen.append(challenge)
        return None if challenge is None else "open sesame"
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.ehlo()
        assert s.auth("X-TOKEN", x_token) == (235, b"2.7.0 Authentication successful")
    assert seen == [None, b"token?"]


class Boom(Exception):
    pass


def test_auth_callback_exception_is_reraised_and_session_usable(auth_server):
    calls = []

    def raising(challenge=None):
        calls.append(challenge)
        if challenge is None:
            return None
        raise Boom("no token here")
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.ehlo()
        with pytest.raises(Boom, match="no token here"):
            s.auth("X-TOKEN", raising)
        assert calls == [None, b"token?"]
        # The exchange was cancelled with '*': the session is in step.
        assert s.noop()[0] == 250
        assert s.auth("X-TOKEN", lambda challenge=None: None if challenge is None else b"open sesame")[0] == 235
        # An exception for the initial response too (nothing sent yet).
        with pytest.raises(KeyError):
            s.auth("X-TOKEN", lambda challenge=None: {}["missing"])
        assert s.noop()[0] == 250


def test_auth_callback_bad_return_type(auth_server):
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.ehlo()
        with pytest.raises(TypeError):
            s.auth("X-TOKEN", lambda challenge=None: None if challenge is None else 42)
        assert s.noop()[0] == 250


def test_auth_callback_calling_the_session_gets_bad_state(auth_server):
    with libsmtp.SMTP("127.0.0.1", auth_server.port) as s:
        s.ehlo()
        inner = []

        def reentrant(challenge=None):
            if challenge is None:
                return None
            try:
                s.noop()
            except libsmtp.SMTPBadStateError as e:
                inner.append(e)
            try:
                s.free()
            except libsmtp.SMTPBadStateError as e:
                inner.append(e)
            return "open sesame"
        assert s.auth("X-TOKEN", reentrant)[0] == 235
        assert len(inner) == 2 and all(isinstance(e, RuntimeError) for e in inner)
        assert s.noop()[0] == 250


# ---- TLS ------------------------------------------------------------------

def test_starttls(starttls_server, ca):
    cafile = ca[0]
    with libsmtp.SMTP("localhost", starttls_server.port) as s:
        s.ehlo()
        assert s.has_extn("starttls")
        code, _ = s.starttls(context=libsmtp.TLSConfig(cafile=cafile))
        assert code == 220
        assert s.is_encrypted and s.tls_version in ("TLSv1.2", "TLSv1.3")
        assert s.ehlo_resp is None and not s.does_esmtp  # forgotten after STARTTLS
        s.ehlo()
        assert not s.has_extn("starttls")
        assert s.sendmail("alice@example.com", ["bob@example.com"], MSG) == {}
    [(eml, _)] = starttls_server.messages()
    assert eml == MSG


def test_starttls_with_ssl_context(starttls_server, ca):
    ctx = ssl.create_default_context(cafile=ca[0])
    with libsmtp.SMTP("localhost", starttls_server.port) as s:
        s.starttls(context=ctx)
        assert s.is_encrypted


def test_starttls_unknown_ca(starttls_server):
    with libsmtp.SMTP("localhost", starttls_server.port) as s:
        with pytest.raises(libsmtp.SMTPTLSError) as info:
            s.starttls()  # default: Mozilla roots, which do not know the test CA
        assert isinstance(info.value, ssl.SSLError)
        assert not s.connected


def test_smtp_ssl(implicit_tls_server, ca):
    ctx = libsmtp.create_default_context(cafile=ca[0])
    with libsmtp.SMTP_SSL("localhost", implicit_tls_server.port, context=ctx, timeout=10) as s:
        assert s.is_encrypted
        assert s.sendmail("alice@example.com", "bob@example.com", MSG) == {}
    [(eml, _)] = implicit_tls_server.messages()
    assert eml == MSG


def test_smtp_ssl_verification_off(implicit_tls_server):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with libsmtp.SMTP_SSL("127.0.0.1", implicit_tls_server.port, context=ctx) as s:
        assert s.noop()[0] == 250
    with pytest.raises(libsmtp.SMTPTLSError):
        libsmtp.SMTP_SSL("127.0.0.1", implicit_tls_server.port)


def test_readme_example(sink, capsys):
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    # The synchronous example: the README's code block that starts with the one changed import.
    code = "import libsmtp as smtplib" + readme.split("```python\nimport libsmtp as smtplib", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 11
    exec(compile(code.replace('"localhost", 8025', '"127.0.0.1", %d' % sink.port), "README.md", "exec"), {})
    assert capsys.readouterr().out == "refused: {}\n"
    [(eml, env)] = sink.messages()
    assert b"Subject: hi\r\n" in eml and b"Hello from libsmtp.\r\n" in eml
    assert env["rcpt_tos"] == ["bob@example.com"]
