"""libsmtp.aio: the coroutines against the repository's servers; the loop
keeps running while a call waits (a timer ticks at least every 100 ms while
the slow server takes 2 s to greet), cancelling the task ends the call
within 100 ms, and calls on one session queue."""
import asyncio
import email.message
import io
import time

import pytest

import libsmtp
import libsmtp.aio

MSG = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: async\r\n\r\nHello.\r\n"
TICK_S = 0.01


def run(coro):
    return asyncio.run(coro)


async def ticker(gaps, stop):
    """Record the gaps between timer ticks until stop is set."""
    last = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(TICK_S)
        now = time.monotonic()
        gaps.append(now - last)
        last = now


def report(capsys, text):
    with capsys.disabled():
        print("\n    [timing] " + text)


def test_loop_keeps_ticking_during_a_slow_greeting(slow, capsys):
    async def main():
        gaps, stop = [], asyncio.Event()
        tick = asyncio.ensure_future(ticker(gaps, stop))
        s = libsmtp.aio.SMTP(local_hostname="client.example", timeout=10)
        t0 = time.monotonic()
        code, _ = await s.connect("127.0.0.1", slow.port)
        took = time.monotonic() - t0
        stop.set()
        await tick
        await s.quit()
        return code, took, gaps
    code, took, gaps = run(main())
    assert code == 220
    assert took >= 1.9  # the server's 2 s before the greeting
    report(capsys, "slow greeting %.2f s: %d ticks, longest gap %.1f ms" % (took, len(gaps), 1000 * max(gaps)))
    assert len(gaps) >= took / 0.1
    assert max(gaps) < 0.1


def test_cancel_ends_the_call_within_100ms(slow, sink, capsys):
    async def main():
        s = libsmtp.aio.SMTP(local_hostname="client.example", timeout=10)
        task = asyncio.ensure_future(s.connect("127.0.0.1", slow.port))
        await asyncio.sleep(0.3)  # waiting for the greeting by now
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        took = time.monotonic() - t0
        assert not s.connected  # the connection is closed, the session free again
        assert (await s.connect("127.0.0.1", sink.port))[0] == 220
        assert await s.sendmail("alice@example.com", ["bob@example.com"], MSG) == {}
        await s.quit()
        return took
    took = run(main())
    report(capsys, "cancel of a connect waiting for the greeting: %.1f ms" % (1000 * took))
    assert took < 0.1
    assert len(sink.messages(wait_for=1)) == 1


def test_wait_for_timeout_cancels_and_cancel_before_start(slow):
    async def main():
        s = libsmtp.aio.SMTP(local_hostname="client.example")
        t0 = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(s.connect("127.0.0.1", slow.port), 0.2)
        assert time.monotonic() - t0 < 0.4
        # Cancelled before its thread entered the library: it never starts.
        task = asyncio.ensure_future(s.connect("127.0.0.1", slow.port))
        await asyncio.sleep(0)
        task.cancel()
        t0 = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 0.1
        assert not s.connected
    run(main())


def test_calls_on_one_session_queue(sink):
    async def main():
        async with libsmtp.aio.SMTP("127.0.0.1", sink.port, local_hostname="client.example") as s:
            calls = [s.sendmail("alice@example.com", ["bob%d@example.com" % i], MSG) for i in range(3)]
            first = asyncio.ensure_future(calls[0])
            await asyncio.sleep(0)
            with pytest.raises(libsmtp.SMTPBadStateError):  # a getter while a call runs: refused, not blocking
                s.connected
            assert "busy" in repr(s)
            assert await asyncio.gather(first, *calls[1:]) == [{}, {}, {}]
            assert s.rcpt_results()[0].address == "bob2@example.com"
    run(main())
    assert [env["rcpt_tos"] for _, env in sink.messages(wait_for=3)] == [["bob%d@example.com" % i] for i in range(3)]


def test_the_whole_session_api(sink, auth_server, starttls_server, implicit_tls_server, ca):
    async def main():
        s = libsmtp.aio.SMTP(local_hostname="client.example", timeout=10)
        assert (await s.connect("127.0.0.1", sink.port))[0] == 220
        assert (await s.ehlo())[0] == 250 and s.does_esmtp and "size" in s.esmtp_features
        assert s.has_extn("8bitmime")
        assert (await s.noop())[0] == 250
        assert (await s.rset())[0] == 250
        assert (await s.mail("alice@example.com"))[0] == 250
        assert (await s.rcpt("bob@example.com"))[0] == 250
        assert (await s.data(MSG))[0] == 250
        assert (await s.docmd("NOOP"))[0] == 250
        await s.putcmd("NOOP")
        assert (await s.getreply())[0] == 250
        await s.send(b"NOOP\r\n")
        assert (await s.getreply())[0] == 250
        assert (await s.verify("bob@example.com"))[0] in (250, 252, 502)
        s.set_pipelining(False)
        s.set_chunking(False)
        s.set_timeout("reply", 5)
        assert s.get_timeout("reply") == 5
        m = email.message.EmailMessage()
        m["From"], m["To"], m["Subject"] = "carol@example.com", "dave@example.com", "object"
        m.set_content("hi\n")
        assert await s.send_message(m) == {}
        assert s.sender == "carol@example.com"
        assert await s.sendmail_stream("alice@example.com", ["bob@example.com"], io.BytesIO(MSG)) == {}
        results = await s.sendmail_batch([("alice@example.com", ["bob@example.com"], MSG)] * 2)
        assert [r.error for r in results] == [None, None]
        assert (await s.quit())[0] == 221

        async with libsmtp.aio.SMTP("127.0.0.1", auth_server.port, local_hostname="c.example") as a:
            assert (await a.login("alice", "s3cret"))[0] == 235
        async with libsmtp.aio.SMTP("127.0.0.1", auth_server.port, local_hostname="c.example") as a:
            await a.ehlo()
            assert (await a.auth("x-token", lambda challenge=None: None if challenge is None else "open sesame"))[0] == 235
        tls = libsmtp.TLSConfig(cafile=ca[0])
        async with libsmtp.aio.SMTP("localhost", starttls_server.port, local_hostname="c.example") as t:
            await t.starttls(context=tls)
            assert t.is_encrypted and t.tls_version
        async with libsmtp.aio.SMTP_SSL("localhost", implicit_tls_server.port, context=tls,
                                        local_hostname="c.example") as t:
            assert t.is_encrypted
            assert await t.sendmail("alice@example.com", ["bob@example.com"], MSG) == {}
        lm = libsmtp.aio.LMTP(local_hostname="c.example")
        with pytest.raises(libsmtp.SMTPConnectFailedError):
            await lm.connect("/nonexistent/lmtp.sock")
    run(main())
    assert len(sink.messages(wait_for=5)) == 5
    assert len(implicit_tls_server.messages(wait_for=1)) == 1


def test_errors_are_raised_in_the_task(sink):
    async def main():
        async with libsmtp.aio.SMTP("127.0.0.1", sink.port, local_hostname="client.example") as s:
            with pytest.raises(libsmtp.SMTPRecipientsRefused):
                await s.sendmail("alice@example.com", ["refuse@example.com"], MSG)
            with pytest.raises(ValueError):
                await s.sendmail("alice@example.com", ["bad\r\naddress"], MSG)
            assert (await s.noop())[0] == 250
    run(main())


def test_pool_concurrent_calls_and_cancel(sink, slow, capsys):
    async def main():
        async with libsmtp.aio.Pool("127.0.0.1", sink.port, max_connections=2) as pool:
            got = await asyncio.gather(*[pool.sendmail("alice@example.com", ["bob@example.com"], MSG)
                                         for _ in range(5)])
            assert got == [{}] * 5
            assert pool.stats()["sent"] == 5
            m = email.message.EmailMessage()
            m["From"], m["To"], m["Subject"] = "carol@example.com", "dave@example.com", "pooled object"
            assert await pool.send_message(m) == {}
            assert [r.error for r in await pool.sendmail_batch([("a@example.com", ["b@example.com"], MSG)])] == [None]
        slow_pool = libsmtp.aio.Pool("127.0.0.1", slow.port, like=libsmtp.aio.SMTP(local_hostname="x"))
        task = asyncio.ensure_future(slow_pool.sendmail("alice@example.com", ["bob@example.com"], MSG))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        took = time.monotonic() - t0
        await slow_pool.close()
        return took
    took = run(main())
    report(capsys, "cancel of a pool call waiting for a greeting: %.1f ms" % (1000 * took))
    assert took < 0.1
    assert len(sink.messages(wait_for=7)) == 7
    assert slow.messages() == []
