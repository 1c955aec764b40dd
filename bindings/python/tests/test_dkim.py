"""DKIMSigner (smtp_dkim_*): messages signed here, sent to the sink, and
verified by dkimpy, an independent verifier, with the public records
OpenSSL made (tests/compose/keys, tests/compose/dkim_verify.py); a
changed message stops verifying. The message builder (smtp_message_*) is
not bound: Python composes with its email package (test_coverage.py)."""
import asyncio
import email
import email.policy
import re
import subprocess
import sys
from email.message import EmailMessage

import pytest

import libsmtp
import libsmtp.aio
from conftest import ROOT, run_in_threads

KEYS = ROOT / "tests" / "compose" / "keys"
VERIFY = ROOT / "tests" / "compose" / "dkim_verify.py"
ALGORITHM = {"rsa2048": "rsa-sha256", "ed25519": "ed25519-sha256"}
RAW = (b"From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: raw one\n\n"
       b"LF line ends,\nnormalized when signed.\n.a dot line\n")


def key(name):
    return (KEYS / (name + ".pem")).read_text(encoding="ascii")


def signer(name="ed25519", **kw):
    return libsmtp.DKIMSigner(key(name), "example.com", "test", **kw)


def verifies(eml, name, tmp_path):
    """dkimpy's verdict on `eml` with the public record of key `name`."""
    path = tmp_path / "verify.eml"
    path.write_bytes(eml)
    out = subprocess.run([sys.executable, str(VERIFY), str(path), str(KEYS / (name + ".txt"))],
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode == 0) == (out.stdout.strip() == "pass"), out.stdout + out.stderr
    return out.returncode == 0


def tampered(eml, old, new):
    assert old in eml
    return eml.replace(old, new, 1)


def connect(server, cls=libsmtp.SMTP):
    s = cls(local_hostname="client.example", timeout=10)
    assert s.connect("127.0.0.1", server.port)[0] == 220
    return s


@pytest.mark.parametrize("canon", [("relaxed", "relaxed"), ("simple", "simple")])
@pytest.mark.parametrize("name", sorted(ALGORITHM))
def test_raw_message_signed_sent_and_verified(sink, tmp_path, name, canon):
    d = signer(name, canonicalization=canon)
    signed = d.sign(RAW)
    field, rest = signed.split(b"\r\nFrom: ", 1)
    assert field.startswith(b"DKIM-Signature: v=1; a=%s; c=%s/%s; d=example.com;"
                            % (ALGORITHM[name].encode(), canon[0].encode(), canon[1].encode()))
    # The message follows the field with CRLF line ends, as it is sent, so
    # that sendmail (bytes go raw) and send_message put the same bytes out.
    assert b"From: " + rest == RAW.replace(b"\n", b"\r\n")
    with connect(sink) as s:
        assert s.sendmail("alice@example.com", ["bob@example.org"], signed) == {}
        assert s.send_message(signed) == {}
    arrived = [eml for eml, _ in sink.messages(wait_for=2)]
    assert arrived == [signed, signed]
    assert verifies(signed, name, tmp_path)
    assert not verifies(tampered(signed, b"normalized", b"normalised"), name, tmp_path)
    assert not verifies(tampered(signed, b"Subject: raw one", b"Subject: raw two"), name, tmp_path)


def test_email_message_signed_as_send_message_flattens_it(sink, tmp_path):
    msg = EmailMessage()
    msg["From"] = "Jörg Alice <alice@example.com>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Cc"] = "carol@example.org"
    msg["Bcc"] = "dave@example.org"
    msg["Subject"] = "Grüße, with an attachment"
    msg.set_content("Hello Bob,\n\nthe report is attached.\n")
    msg.add_alternative("<p>Hello Bob,</p><p>the report is <b>attached</b>.</p>\n", subtype="html")
    report = bytes(range(256)) * 40
    msg.add_attachment(report, maintype="application", subtype="pdf", filename="report.pdf")
    signed = libsmtp.DKIMSigner(key("rsa2048").encode("ascii"), "example.com", "test").sign(msg)
    assert "Bcc" in msg  # the caller's message is left alone
    with connect(sink) as s:
        refused = s.sendmail("alice@example.com", ["bob@example.org", "carol@example.org", "dave@example.org"],
                             signed)
    assert refused == {}
    [(eml, env)] = sink.messages(wait_for=1)
    assert eml == signed
    assert env["rcpt_tos"] == ["bob@example.org", "carol@example.org", "dave@example.org"]
    assert verifies(eml, "rsa2048", tmp_path)
    got = email.message_from_bytes(eml, policy=email.policy.default)
    assert got["Bcc"] is None and got["Cc"] == "carol@example.org"
    assert str(got["Subject"]) == "Grüße, with an attachment"
    assert got["From"].addresses[0].display_name == "Jörg Alice"
    def text(subtype):  # the parts' CRLF line ends read back as "\n"
        return got.get_body((subtype,)).get_content().replace("\r\n", "\n")
    assert text("plain") == "Hello Bob,\n\nthe report is attached.\n"
    assert text("html") == "<p>Hello Bob,</p><p>the report is <b>attached</b>.</p>\n"
    [part] = list(got.iter_attachments())
    assert part.get_filename() == "report.pdf" and part.get_content() == report
    assert not verifies(tampered(eml, b"the report is attached.", b"the report is attached!"), "rsa2048", tmp_path)


def test_legacy_message_and_str(tmp_path):
    legacy = email.message_from_string("From: alice@example.com\nTo: bob@example.org\nBcc: x@example.org\n"
                                       "Subject: compat32\n\nbody\n")
    signed = signer().sign(legacy)
    assert b"Bcc" not in signed and signed.endswith(b"\r\nSubject: compat32\r\n\r\nbody\r\n")
    assert verifies(signed, "ed25519", tmp_path)
    # str is ASCII with its line ends normalised, as smtplib's sendmail takes it.
    text = "From: alice@example.com\r\nSubject: str\n\nbody\r"
    signed = signer().sign(text)
    assert signed.endswith(b"\r\nFrom: alice@example.com\r\nSubject: str\r\n\r\nbody\r\n")
    assert verifies(signed, "ed25519", tmp_path)
    with pytest.raises(UnicodeEncodeError):
        signer().sign("From: alice@example.com\r\n\r\nnon-ASCII: é\r\n")


def test_international_address_flattens_as_utf8(tmp_path):
    msg = EmailMessage()
    msg["From"] = "jörg@example.com"
    msg["To"] = "bob@example.org"
    msg.set_content("hi\n")
    signed = signer().sign(msg)
    # As smtplib's send_message with SMTPUTF8: the address itself, no encoded word.
    assert "From: jörg@example.com\r\n".encode() in signed
    assert verifies(signed, "ed25519", tmp_path)


def test_signed_headers_and_canonicalization(tmp_path):
    msg = (b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: one  two\r\nX-Tag: a\r\n\r\n"
           b"body  text\r\n")
    d = signer(headers=["Subject", "x-tag"], canonicalization="relaxed")
    assert d.headers == ("Subject", "x-tag") and d.canonicalization == ("relaxed", "simple")  # RFC 6376 3.5
    signed = d.sign(msg)
    h = re.search(rb"h=([^;]+);", re.sub(rb"\r\n\s+", b"", signed)).group(1)
    assert sorted(h.split(b":")) == [b"from", b"subject", b"x-tag"]  # From is always signed
    assert verifies(signed, "ed25519", tmp_path)
    assert verifies(tampered(signed, b"To: bob@", b"To: eve@"), "ed25519", tmp_path)  # To is not signed
    assert not verifies(tampered(signed, b"X-Tag: a", b"X-Tag: b"), "ed25519", tmp_path)
    # Relaxed headers take refolding and case; the simple body does not take spaces.
    assert verifies(tampered(signed, b"Subject: one  two", b"subject:one\r\n\ttwo "), "ed25519", tmp_path)
    assert not verifies(tampered(signed, b"body  text", b"body text"), "ed25519", tmp_path)
    strict = signer(canonicalization=("simple", "relaxed")).sign(msg)
    assert b"c=simple/relaxed;" in strict
    assert not verifies(tampered(strict, b"Subject: one  two", b"Subject: one two"), "ed25519", tmp_path)
    assert verifies(tampered(strict, b"body  text", b"body text"), "ed25519", tmp_path)


@pytest.mark.parametrize("name", sorted(ALGORITHM))
def test_dns_record_matches_openssl(name):
    d = signer(name)
    assert d.dns_record() == (KEYS / (name + ".txt")).read_text(encoding="ascii").strip()
    assert d.algorithm == ALGORITHM[name]
    assert repr(d) == "<libsmtp.DKIMSigner %s d=example.com s=test c=relaxed/relaxed>" % ALGORITHM[name]


def test_aio_sends_what_the_signer_signed(sink, tmp_path):
    # Signing is CPU-only (no network), so libsmtp.aio has no signer of its own.
    async def main():
        async with libsmtp.aio.SMTP("127.0.0.1", sink.port, local_hostname="client.example", timeout=10) as s:
            return await s.sendmail("alice@example.com", ["bob@example.org"], signer("rsa2048").sign(RAW))
    assert asyncio.run(main()) == {}
    [(eml, _)] = sink.messages(wait_for=1)
    assert verifies(eml, "rsa2048", tmp_path)


def test_one_signer_from_many_threads(tmp_path):
    d = signer("rsa2048")
    signed = {}

    def sign(i):
        for j in range(10):
            signed[i, j] = d.sign(RAW.replace(b"raw one", b"thread %d message %d" % (i, j)))
    assert run_in_threads(sign, 4) == []
    assert len(signed) == 40
    for i, j in [(0, 0), (1, 9), (3, 5)]:
        assert b"thread %d message %d" % (i, j) in signed[i, j]
        assert verifies(signed[i, j], "rsa2048", tmp_path)


def test_bad_arguments_raise_with_the_library_reason():
    pem = key("rsa2048")
    with pytest.raises(ValueError, match="private key") as e:
        libsmtp.DKIMSigner(pem[:400], "example.com", "test")
    secret = pem.splitlines()[5]
    assert secret not in str(e.value) and secret not in e.value.libsmtp_errmsg
    with pytest.raises(ValueError, match="private key"):
        libsmtp.DKIMSigner("", "example.com", "test")
    with pytest.raises(TypeError):
        libsmtp.DKIMSigner(None, "example.com", "test")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="selector"):
        libsmtp.DKIMSigner(pem, "example.com", "a;b")
    with pytest.raises(ValueError, match="NUL"):
        libsmtp.DKIMSigner(pem, "example.com", "te\0st")
    for domain in ["exa mple.com", "example.com\r\nX-Injected: 1", "a;b=c"]:
        # smtp_dkim_set_domain checks only names that are not ASCII; the
        # rest are refused when the signature is made, before anything is
        # signed: the error comes at construction or, at the latest, there.
        with pytest.raises(ValueError, match="domain"):
            libsmtp.DKIMSigner(pem, domain, "test").sign(RAW)
    with pytest.raises(ValueError, match="at least one"):
        signer(headers=[])
    with pytest.raises(TypeError, match="single string"):
        signer(headers="From")
    with pytest.raises(ValueError):
        signer(headers=["bad name"])
    for canon in ["bogus", ("relaxed",), ("relaxed", "simple", "simple"), "relaxed/", ("RELAXED", None)]:
        with pytest.raises(ValueError, match="canonicalization"):
            signer(canonicalization=canon)
    with pytest.raises(TypeError, match="canonicalization"):
        signer(canonicalization=2)
    d = signer()
    with pytest.raises(ValueError, match="From"):
        d.sign(b"Subject: no From\r\n\r\nbody\r\n")
    with pytest.raises(TypeError, match="message"):
        d.sign(None)
    for form in (bytearray(RAW), memoryview(RAW)):
        assert d.sign(form).endswith(RAW.replace(b"\n", b"\r\n"))
    d.close()
    assert repr(d).endswith(" closed>")
    with pytest.raises(ValueError, match="closed"):
        d.sign(RAW)
    with pytest.raises(ValueError, match="closed"):
        d.dns_record()
    d.close()  # twice is fine


def test_the_key_is_not_kept_or_shown():
    pem = key("ed25519")
    with libsmtp.DKIMSigner(pem, "example.com", "test") as d:
        body = pem.splitlines()[1]
        assert body not in repr(d)
        assert all(body not in repr(getattr(d, slot, "")) for slot in type(d).__slots__)
        assert not hasattr(d, "__dict__")
    with pytest.raises(ValueError, match="closed"):
        d.sign(RAW)
