"""smtplib's low-level API over smtp_session_send/getreply/fileno/
utf8_commands: send, putcmd, getreply, sock, command_encoding; and the
smtplib behaviours test_smtplib pins (nonnumeric port, a local_hostname
with a line break, UnicodeEncodeError without SMTPUTF8)."""
import socket
import time

import pytest

import libsmtp


def connected(sink, **kw):
    return libsmtp.SMTP("127.0.0.1", sink.port, local_hostname="client.example", timeout=10, **kw)


def test_putcmd_getreply_send(sink):
    with connected(sink) as s:
        s.putcmd("NOOP")
        assert s.getreply() == (250, b"OK")
        s.send(b"NO")
        s.send("OP\r\nNOOP\r\n")  # two commands: both replies, in order
        assert s.getreply()[0] == 250
        assert s.getreply()[0] == 250
        assert s.last_reply[0] == 250
        with pytest.raises(ValueError, match=r"prohibited newline characters: helo\\nX-INJECTED"):
            s.putcmd("helo\nX-INJECTED")
        with pytest.raises(UnicodeEncodeError):
            s.send("NOOP \u00e9\r\n")
        with pytest.raises(TypeError):
            s.send(42)
        assert s.noop()[0] == 250  # still in step
    with pytest.raises(libsmtp.SMTPServerDisconnected):
        s.send(b"NOOP\r\n")
    with pytest.raises(libsmtp.SMTPServerDisconnected):
        s.getreply()


def test_getreply_bounded_by_the_reply_limit(sink):
    s = connected(sink)
    s.set_timeout("reply", 0.3)
    t0 = time.monotonic()
    with pytest.raises(libsmtp.SMTPTimeoutError):
        s.getreply()  # nothing was sent: no reply comes
    assert time.monotonic() - t0 < 0.33 + 0.3
    assert s.sock is None


def test_sock(sink):
    s = libsmtp.SMTP(local_hostname="client.example", timeout=7)
    assert s.sock is None
    s.connect("127.0.0.1", sink.port)
    sock = s.sock
    assert sock and sock.fileno() >= 0
    assert sock.getpeername()[1] == sink.port
    assert sock.getsockname()[0] == "127.0.0.1"
    assert sock.family == socket.AF_INET
    assert sock.gettimeout() == 7.0
    sock.settimeout(3)
    assert sock.gettimeout() == 3.0 and s.get_timeout("reply") == 3.0
    sock.settimeout(None)
    assert sock.gettimeout() is None
    with pytest.raises(ValueError):
        sock.settimeout(0)
    assert s.noop()[0] == 250  # the descriptor's duplicates left it alone
    sock.close()
    assert s.sock is None
    with pytest.raises(OSError):
        sock.fileno()


def test_command_encoding(sink):
    with connected(sink) as s:
        assert s.command_encoding == "ascii"
        s.ehlo()
        s.mail("j\u00f6rg@example.com", ["SMTPUTF8"])
        assert s.command_encoding == "utf-8"
        assert s.rcpt("b\u00f8b@example.com")[0] == 250
        s.rset()
        assert s.command_encoding == "ascii"
        with pytest.raises(UnicodeEncodeError):
            s.rcpt("b\u00f8b@example.com")
        with pytest.raises(UnicodeEncodeError):
            s.mail("\u00c4lice")
        with pytest.raises(UnicodeEncodeError):
            s.sendmail("Alice", "B\u00f6b", "")
        assert s.noop()[0] == 250


def test_nonnumeric_port_is_oserror():
    for args in (("localhost", "bogus"), ("localhost:bogus",)):
        with pytest.raises(OSError, match="nonnumeric port"):
            libsmtp.SMTP(*args)


def test_local_hostname_with_line_break_refused_when_sent(sink):
    s = libsmtp.SMTP("127.0.0.1", sink.port, local_hostname="hi\nX-INJECTED", timeout=10)
    assert s.local_hostname == "hi\nX-INJECTED"
    for call in (lambda: s.sendmail("a@example.com", ["b@example.com"], "x"), s.ehlo, s.ehlo_or_helo_if_needed,
                 lambda: s.login("u", "p"), s.starttls):
        with pytest.raises(ValueError, match=r"prohibited newline characters: ehlo hi\\nX-INJECTED"):
            call()
    with pytest.raises(ValueError, match=r"prohibited newline characters: helo hi\\nX-INJECTED"):
        s.helo()
    assert s.ehlo("named.example")[0] == 250  # a name given is used
    s.local_hostname = "client.example"
    assert s.helo()[0] == 250
    s.quit()
    assert sink.messages() == []
