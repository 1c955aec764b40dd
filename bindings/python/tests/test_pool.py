"""libsmtp.Pool against the repository's servers: shared connections,
threads, options, stats, login and an auth callback, batches."""
import email.message
import pytest

import libsmtp
from conftest import run_in_threads

MSG = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: pooled\r\n\r\nHello.\r\n"


def test_pool_from_threads_shares_connections(sink):
    with libsmtp.Pool("127.0.0.1", sink.port, max_connections=2, timeout=10) as pool:
        def send(i):
            refused = pool.sendmail("alice@example.com", ["bob@example.com", "refuse@example.com"],
                                    MSG.replace(b"pooled", b"pooled %d" % i))
            assert list(refused) == ["refuse@example.com"]
        assert run_in_threads(send, 8) == []
        stats = pool.stats()
        assert stats["sent"] == 8
        assert 1 <= stats["opened"] <= 2  # at most max_connections, reused
        assert stats["open"] == stats["idle"] <= 2
    got = sink.messages(wait_for=8)
    assert sorted(eml for eml, _ in got) == sorted(MSG.replace(b"pooled", b"pooled %d" % i) for i in range(8))


def test_pool_send_message_batch_and_errors(sink):
    pool = libsmtp.Pool("127.0.0.1", sink.port, like=libsmtp.SMTP(local_hostname="pool.example"), rate=0,
                        max_messages=2, max_idle=30, probe_idle=5)
    m = email.message.EmailMessage()
    m["From"], m["To"], m["Bcc"], m["Subject"] = "carol@example.com", "dave@example.com", "eve@example.com", "obj"
    m.set_content("body\n")
    assert pool.send_message(m) == {}
    assert pool.send_message(MSG, to_addrs=["frank@example.com"]) == {}
    results = pool.sendmail_batch([("a@example.com", ["b@example.com"], MSG),
                                   ("a@example.com", ["refuse@example.com"], MSG)])
    assert results[0].error is None and isinstance(results[1].error, libsmtp.SMTPRecipientsRefused)
    with pytest.raises(libsmtp.SMTPRecipientsRefused):
        pool.sendmail("a@example.com", ["refuse@example.com"], MSG)
    assert pool.stats()["retired"] >= 1  # max_messages=2
    with pytest.raises(ValueError):
        pool.set_option("colour", 1)
    pool.close()
    pool.close()
    with pytest.raises(ValueError, match="closed"):
        pool.sendmail("a@example.com", ["b@example.com"], MSG)
    got = sink.messages(wait_for=3)
    assert got[0][1]["rcpt_tos"] == ["dave@example.com", "eve@example.com"]
    assert b"Bcc" not in got[0][0] and b"obj" in got[0][0]
    assert got[1][1]["rcpt_tos"] == ["frank@example.com"]
    assert len(got) == 3


def test_pool_envelope_and_timeouts_reach_each_call(dsn):
    with libsmtp.Pool("127.0.0.1", dsn.port) as pool:
        pool.set_envelope(libsmtp.Envelope(dsn_ret="HDRS"))
        pool.set_pipelining(False)
        pool.set_chunking(False)
        pool.set_timeout("call", 20)
        pool.sendmail("alice@example.com", ["bob@example.com"], MSG)
        pool.set_envelope(None)
        pool.sendmail("alice@example.com", ["bob@example.com"], MSG)
    (_, first), (_, second) = dsn.messages(wait_for=2)
    assert first["raw"][0].endswith("RET=HDRS") and "RET=" not in second["raw"][0]


def test_pool_login_and_auth_callback(auth_server):
    with libsmtp.Pool("127.0.0.1", auth_server.port, login=("alice", "s3cret")) as pool:
        assert pool.sendmail("alice@example.com", ["bob@example.com"], MSG) == {}
    with libsmtp.Pool("127.0.0.1", auth_server.port, login=("alice", "wrong")) as pool:
        with pytest.raises(libsmtp.SMTPAuthenticationError):
            pool.sendmail("alice@example.com", ["bob@example.com"], MSG)
    asked = []

    def token(challenge=None):
        asked.append(challenge)
        return None if challenge is None else "open sesame"
    with libsmtp.Pool("127.0.0.1", auth_server.port) as pool:
        pool.set_auth("x-token", token)
        assert pool.sendmail("alice@example.com", ["bob@example.com"], MSG) == {}
    assert asked == [None, b"token?"]

    def broken(challenge=None):
        raise LookupError("no token")
    with libsmtp.Pool("127.0.0.1", auth_server.port) as pool:
        pool.set_auth("x-token", broken)
        with pytest.raises(LookupError, match="no token"):
            pool.sendmail("alice@example.com", ["bob@example.com"], MSG)


def test_pool_lmtp_kind_and_bad_host():
    with pytest.raises(ValueError):
        libsmtp.Pool("bad\nhost")
    pool = libsmtp.Pool("/nonexistent/lmtp.sock", like=libsmtp.LMTP(local_hostname="x"), timeout=2)
    with pytest.raises(libsmtp.SMTPConnectFailedError):
        pool.sendmail("a@example.com", ["b@example.com"], MSG)
    pool.close()
