"""What libsmtp adds to smtplib's API, against the repository's servers:
streaming, batches, envelope options, the pipelining and chunking
switches, the sender and recipient records, proxies, a caller's socket,
trust roots and the debug-secrets switch."""
import io
import socket
import urllib.parse

import pytest

import libsmtp
from conftest import SPEC

MSG = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: features\r\n\r\nHello.\r\n.dot line\r\n"


def connect(server, cls=libsmtp.SMTP, **kw):
    s = cls(local_hostname="client.example", timeout=10, **kw)
    assert s.connect("127.0.0.1", server.port)[0] == 220
    return s


# ---- sendmail_stream ------------------------------------------------------------

def test_stream_from_a_file(sink, tmp_path):
    path = tmp_path / "msg.eml"
    body = MSG + b"a line of the body\r\n" * 20_000
    path.write_bytes(body)
    with connect(sink) as s, open(path, "rb") as fh:
        assert s.sendmail_stream("alice@example.com", ["bob@example.com", "refuse@example.com"], fh) == {
            "refuse@example.com": (550, b"5.1.1 <refuse@example.com>: Recipient address rejected")}
    [(eml, env)] = sink.messages()
    assert eml == body
    assert env["rcpt_tos"] == ["bob@example.com"]
    assert "SIZE=%d" % len(body) in env["mail_options"]  # the file's size, announced


def test_stream_from_an_unbuffered_file_and_bytesio(sink, tmp_path):
    path = tmp_path / "msg.eml"
    path.write_bytes(MSG)
    with connect(sink) as s:
        with open(path, "rb", buffering=0) as raw:  # readinto() straight into the library's buffer
            s.sendmail_stream("alice@example.com", "bob@example.com", raw)
        s.sendmail_stream("alice@example.com", "bob@example.com", io.BytesIO(MSG))
    assert [eml for eml, _ in sink.messages()] == [MSG, MSG]


def test_stream_from_an_iterator_of_chunks(sink):
    chunks = [b"From: a@example.com\r\n", b"", b"Subject: chunks\r\n\r\n", bytearray(b"line\r\n" * 3000)]
    with connect(sink) as s:
        assert s.sendmail_stream("a@example.com", ["b@example.com"], iter(chunks), size=None) == {}
    [(eml, env)] = sink.messages()
    assert eml == b"".join(bytes(c) for c in chunks)
    assert not any(o.startswith("SIZE=") for o in env["mail_options"])  # an iterator's size is unknown


def test_stream_source_error_aborts_and_is_reraised(sink):
    def chunks():
        yield MSG
        raise KeyError("source broke")
    with connect(sink) as s:
        with pytest.raises(KeyError, match="source broke"):
            s.sendmail_stream("a@example.com", ["b@example.com"], chunks())
        assert not s.connected  # closed mid-message, so that nothing partial is delivered
    assert sink.messages() == []


def test_stream_text_file_refused(sink, tmp_path):
    path = tmp_path / "msg.txt"
    path.write_text("Subject: text\n\nhi\n")
    with connect(sink) as s, open(path) as fh:
        with pytest.raises(TypeError, match="binary mode"):
            s.sendmail_stream("a@example.com", ["b@example.com"], fh)
    with pytest.raises(TypeError):
        libsmtp.SMTP(local_hostname="x").sendmail_stream("a@example.com", ["b@example.com"], MSG)
    assert sink.messages() == []


# ---- sendmail_batch ---------------------------------------------------------------

def test_batch(sink):
    messages = [("alice@example.com", ["bob@example.com"], MSG),
                ("alice@example.com", ["refuse1@example.com", "refuse2@example.com"], MSG),
                ("carol@example.com", "dave@example.com", MSG.replace(b"features", b"third"))]
    with connect(sink) as s:
        results = s.sendmail_batch(messages)
        assert s.rcpt_results()[0].address == "dave@example.com"  # the last message's
    assert [r.error is None for r in results] == [True, False, True]
    assert isinstance(results[1].error, libsmtp.SMTPRecipientsRefused)
    assert results[1].error.recipients == {"refuse1@example.com": (550, b""), "refuse2@example.com": (550, b"")}
    assert results[1].refused == {"refuse1@example.com": 550, "refuse2@example.com": 550}
    assert results[0].rcpt_codes == [250] and results[0].refused == {}
    got = sink.messages()
    assert [env["mail_from"] for _, env in got] == ["alice@example.com", "carol@example.com"]
    assert got[1][0] == MSG.replace(b"features", b"third")


def test_batch_bad_arguments(sink):
    with connect(sink) as s:
        # Refused for the whole batch (unknown flags): raised, nothing sent.
        with pytest.raises(ValueError):
            s.sendmail_batch([("a@example.com", ["b@example.com"], MSG)], msg_flags=99)
        with pytest.raises(TypeError):
            s.sendmail_batch([("a@example.com", MSG)])
        assert s.sendmail_batch([]) == []
        assert sink.messages() == []
        # A line break in one message's address fails that message alone.
        ok, bad = s.sendmail_batch([("a@example.com", ["b@example.com"], MSG), ("a@example.com", ["bad\r\nx"], MSG)])
        assert ok.error is None
        assert isinstance(bad.error, ValueError) and "newline" in str(bad.error)
    assert len(sink.messages()) == 1


# ---- envelope options ---------------------------------------------------------------

def test_envelope_dsn(dsn):
    env = libsmtp.Envelope(dsn_ret="HDRS", dsn_envid="id+1 x", dsn_notify=["SUCCESS", "FAILURE"])
    env.rcpt_dsn("carol@example.com", notify="NEVER", orcpt="carol@old.example")
    with connect(dsn) as s:
        s.set_envelope(env)
        env.close()  # the session keeps its copy
        s.sendmail("alice@example.com", ["bob@example.com", "carol@example.com"], MSG)
        s.set_envelope(None)
        s.sendmail("alice@example.com", ["bob@example.com"], MSG)
    (_, first), (_, second) = dsn.messages()
    # RFC 3461: ENVID and ORCPT as xtext ("+" is "+2B", " " is "+20").
    assert first["raw"][0].endswith(" RET=HDRS ENVID=id+2B1+20x")
    assert first["raw"][1] == "to:<bob@example.com> NOTIFY=SUCCESS,FAILURE"
    assert first["raw"][2] == "to:<carol@example.com> NOTIFY=NEVER ORCPT=rfc822;carol@old.example"
    assert "RET=" not in second["raw"][0] and second["raw"][1] == "to:<bob@example.com>"


def test_envelope_option_not_offered_sends_nothing(sink):
    with connect(sink) as s:
        s.set_envelope(libsmtp.Envelope(dsn_ret="FULL"))
        with pytest.raises(libsmtp.SMTPNotSupportedError):
            s.sendmail("alice@example.com", ["bob@example.com"], MSG)
        s.set_envelope(libsmtp.Envelope(mt_priority=3))
        with pytest.raises(libsmtp.SMTPNotSupportedError):
            s.sendmail("alice@example.com", ["bob@example.com"], MSG)
    assert sink.messages() == []


def test_envelope_values_checked():
    with pytest.raises(ValueError, match="RET"):
        libsmtp.Envelope(dsn_ret="PARTIAL")
    with pytest.raises(ValueError, match="NOTIFY"):
        libsmtp.Envelope(dsn_notify="SOMETIMES")
    with pytest.raises(ValueError):
        libsmtp.Envelope(mt_priority=10)
    with pytest.raises(ValueError):
        libsmtp.Envelope(dsn_envid="x" * 101)
    with pytest.raises(ValueError):
        libsmtp.Envelope(dsn_notify=["NEVER", "SUCCESS"])
    assert libsmtp.Envelope(body="8bitmime", smtputf8=True, requiretls=True, deliver_by=60) is not None


# ---- switches, sender, recipient records --------------------------------------------------

def test_pipelining_and_chunking_switches(sink, capsys):
    with connect(sink) as s:
        for on in (False, True):
            s.set_pipelining(on)
            s.set_chunking(on)
            assert s.sendmail("alice@example.com", ["bob@example.com"], MSG) == {}
    assert [eml for eml, _ in sink.messages()] == [MSG, MSG]


def test_sender_and_final_reply(sink):
    with connect(sink) as s:
        assert s.sender is None
        s.send_message(b"Sender: boss@example.com\r\nFrom: alice@example.com\r\nTo: bob@example.com, "
                       b"refuse-x@example.com\r\n\r\nhi\r\n")
        assert s.sender == "boss@example.com"  # the one send_message chose
        bob, refused = s.rcpt_results()
        assert (bob.address, bob.refused, bob.final_code) == ("bob@example.com", False, 250)
        assert refused.refused and refused.final_code == 550 and refused.data_code == 0
        assert refused.final_message == refused.message
        s.sendmail("", ["bob@example.com"], MSG)
        assert s.sender == ""  # the null reverse-path


# ---- proxies and the caller's socket ----------------------------------------------------------

def test_through_socks5_proxy(sink, socks):
    user, password = SPEC["vars"]["proxy_auth"].split(":", 1)
    with libsmtp.SMTP(local_hostname="client.example", timeout=10) as s:
        s.set_proxy("socks5://%s:%s@%s" % (user, urllib.parse.quote(password, safe=""), socks.addr))
        assert s.connect("127.0.0.1", sink.port)[0] == 220
        s.sendmail("alice@example.com", ["bob@example.com"], MSG)
    assert [eml for eml, _ in sink.messages()] == [MSG]
    s = libsmtp.SMTP(local_hostname="client.example", timeout=10)
    s.set_proxy("socks5://%s:wrong@%s" % (user, socks.addr))
    with pytest.raises(libsmtp.SMTPConnectFailedError) as info:
        s.connect("127.0.0.1", sink.port)
    assert "wrong" not in str(info.value)
    with pytest.raises(ValueError):
        s.set_proxy("ftp://proxy.example")
    s.set_proxy(None)


def test_connect_fd_with_a_socket_object(sink, starttls_server, ca):
    sock = socket.create_connection(("127.0.0.1", sink.port))
    with libsmtp.SMTP(local_hostname="client.example", timeout=10) as s:
        assert s.connect_fd(sock)[0] == 220
        assert sock.fileno() == -1  # detached: the session owns the descriptor now
        s.sendmail("alice@example.com", ["bob@example.com"], MSG)
    assert len(sink.messages()) == 1
    # A descriptor, and a host for STARTTLS to check the certificate against.
    fd = socket.create_connection(("127.0.0.1", starttls_server.port)).detach()
    with libsmtp.SMTP(local_hostname="client.example", timeout=10) as s:
        assert s.connect_fd(fd, "localhost")[0] == 220
        s.starttls(context=libsmtp.TLSConfig(cafile=ca[0]))
        assert s.is_encrypted
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(ValueError):
            libsmtp.SMTP(local_hostname="x").connect_fd(udp.detach())
    with pytest.raises(TypeError):
        libsmtp.SMTP(local_hostname="x").connect_fd("3")


# ---- trust roots, debug secrets ---------------------------------------------------------------------

def test_roots(starttls_server, ca):
    only_ca = libsmtp.TLSConfig(cafile=ca[0], roots=())
    with connect(starttls_server) as s:
        s.starttls(context=only_ca)
        assert s.is_encrypted
    with connect(starttls_server) as s:  # the Mozilla roots alone do not know the test CA
        with pytest.raises(libsmtp.SMTPTLSError):
            s.starttls(context=libsmtp.TLSConfig(roots="mozilla"))
    with pytest.raises(ValueError):
        libsmtp.TLSConfig(roots="nss")
    try:
        system = libsmtp.TLSConfig(roots=["system", "mozilla"])
    except libsmtp.SMTPTLSError as e:  # a machine without a CA store
        assert "certificate" in str(e).lower()
    else:
        assert system.roots_info


def test_debug_secrets(auth_server, capsys):
    for show in (False, True):
        with connect(auth_server) as s:
            s.set_debuglevel(1)
            s.set_debug_secrets(show)
            s.login("alice", "s3cret")
        err = capsys.readouterr().err
        plain = "AGFsaWNlAHMzY3JldA=="  # base64("\0alice\0s3cret")
        assert (plain in err) == show
        assert ("redacted" in err) != show
