"""LMTP (RFC 2033) against the runner's lmtp server (servers.json): one
reply per accepted recipient after the data, each kept; over TCP and a
Unix-domain socket; synchronous and libsmtp.aio."""
import asyncio
import os

import pytest

import libsmtp
import libsmtp.aio

MSG = b"Subject: lmtp\r\n\r\nhello\r\n"
TO = ["ok@example.com", "late-fail@example.com", "refuse@example.com"]
WANT_REFUSED = {"late-fail@example.com": (452, b"4.2.2 mailbox full"),
                "refuse@example.com": (550, b"5.1.1 no such user")}


def test_lmtp_one_reply_per_recipient(lmtp):
    with libsmtp.LMTP("127.0.0.1", lmtp.port, timeout=10) as s:
        assert s.ehlo()[0] == 250
        assert s.sendmail("a@example.com", TO, MSG) == WANT_REFUSED
        # Every recipient refused after the data: SMTPDataError, still in step.
        with pytest.raises(libsmtp.SMTPDataError) as e:
            s.sendmail("a@example.com", ["late-fail-1@example.com", "late-fail-2@example.com"], MSG)
        assert e.value.smtp_code == 452
        assert s.noop()[0] == 250


def test_lmtp_over_a_unix_socket(lmtp):
    path = os.path.join(lmtp.dir, "lmtp.sock")
    with libsmtp.LMTP(path, timeout=10) as s:
        assert s.sendmail("a@example.com", TO[:1], MSG) == {}


def test_aio_lmtp(lmtp):
    async def main():
        s = libsmtp.aio.LMTP(timeout=10)
        await s.connect("127.0.0.1", lmtp.port)
        try:
            return await s.sendmail("a@example.com", TO, MSG)
        finally:
            await s.quit()
    assert asyncio.run(main()) == WANT_REFUSED
