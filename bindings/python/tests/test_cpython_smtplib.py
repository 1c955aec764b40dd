"""CPython's own test_smtplib against libsmtp (cpython_smtplib.py), for the
interpreter running pytest; test.sh runs cpython_smtplib.py for Python 3.13
too. Every test of it that does not patch ``smtplib.socket`` must pass.

libsmtp's deliberate differences from smtplib (README.md, "Where libsmtp
differs from smtplib, on purpose") are never reached by test_smtplib; the
tests below name each one and show it beside smtplib's behaviour:

- verified TLS by default: test_difference_verified_tls_by_default
- an empty recipient list refused before sending:
  test_difference_empty_recipient_list_refused_before_sending
- one LMTP reply per accepted recipient after the data:
  test_difference_lmtp_reply_per_recipient
"""
import os
import pathlib
import re
import smtplib
import subprocess
import sys

import pytest

import libsmtp
from cpython_smtplib import PATCH_REASON
from test_api import GREETING, QUIT, client, scripted

HERE = pathlib.Path(__file__).resolve().parent
SUMMARY = re.compile(r"^cpython test_smtplib (\d+\.\d+): (\d+) passed, (\d+) failed, (\d+) skipped$", re.M)


def test_cpython_test_smtplib():
    """The whole module in a child (it replaces sys.modules["smtplib"] and
    starts servers of its own), bounded in time."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, str(HERE / "cpython_smtplib.py")], capture_output=True, text=True,
                          env=env, timeout=300)
    out = proc.stdout + proc.stderr
    m = SUMMARY.search(out)
    assert m, out[-4000:]
    version, passed, failed, skipped = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
    assert version == "%d.%d" % sys.version_info[:2]
    assert proc.returncode == 0 and failed == 0, out[-8000:]
    skips = re.findall(r"^skipped: (\S+): (.*)$", out, re.M)
    assert len(skips) == skipped
    # Only tests that put a mock socket module in place are skipped (the
    # General and BadHELO tests), and with the reason.
    assert all(why == PATCH_REASON for _, why in skips), skips
    assert all(re.search(r"\.(SMTPGeneralTests|LMTPGeneralTests|BadHELOServerTests)\.", t) for t, _ in skips), skips
    # The tests of the issues this binding fixed are among those that ran and passed.
    assert passed >= 59, out[-4000:]
    print(m.group(0))


def test_difference_verified_tls_by_default(starttls_server):
    """smtplib's starttls() without a context verifies nothing; libsmtp's
    checks the certificate (here from a CA nobody trusts) and the name."""
    with smtplib.SMTP("localhost", starttls_server.port, timeout=10) as s:
        assert s.starttls()[0] == 220
        s.noop()
    with libsmtp.SMTP("localhost", starttls_server.port, timeout=10) as s:
        with pytest.raises(libsmtp.SMTPTLSError):
            s.starttls()
        assert s.sock is None


def test_difference_empty_recipient_list_refused_before_sending(sink):
    """smtplib sends MAIL and then raises SMTPRecipientsRefused({}); libsmtp
    refuses the call (ValueError) before a byte is sent."""
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            s.sendmail("a@example.com", [], b"Subject: x\r\n\r\nx\r\n")
        assert info.value.recipients == {}
    with libsmtp.SMTP("127.0.0.1", sink.port, timeout=10) as s:
        with pytest.raises(ValueError):
            s.sendmail("a@example.com", [], b"Subject: x\r\n\r\nx\r\n")
        assert s.noop()[0] == 250
    assert sink.messages() == []


def test_difference_lmtp_reply_per_recipient():
    """RFC 2033 4.2: after the data an LMTP server answers once per accepted
    recipient; smtplib reads one reply (cpython#76984), libsmtp reads each
    and a recipient refused there is refused."""
    transcript = [GREETING, {"c": "lhlo client.example\r\n"}, {"s": "250 mx.example\r\n"},
                  {"c": "mail from:<a@example.com>\r\n"}, {"s": "250 ok\r\n"},
                  {"c": "rcpt to:<b@example.com>\r\n"}, {"s": "250 ok\r\n"},
                  {"c": "rcpt to:<c@example.com>\r\n"}, {"s": "250 ok\r\n"},
                  {"c": "data\r\n"}, {"s": "354 go\r\n"}, {"d": "x\r\n.\r\n"},
                  {"s": "250 b delivered\r\n452 c is over quota\r\n"}, *QUIT]
    server = scripted(transcript)
    s = client(server, libsmtp.LMTP)
    assert s.sendmail("a@example.com", ["b@example.com", "c@example.com"], "x\r\n") == {
        "c@example.com": (452, b"c is over quota")}
    s.quit()
    assert server.result() is None
