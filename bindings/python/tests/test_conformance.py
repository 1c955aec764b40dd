"""The shared conformance vectors (CPython smtplib on the wire) replayed
through the libsmtp module: a scripted server plays each transcript's server
side and checks every byte the client sends; the calls go through
libsmtp.SMTP / LMTP, and each result, exception and the state after each
call are compared with smtplib's.

Directory: SMTP_CONFORMANCE_DIR, default ../shared/conformance/vectors from
the repository root. send_message vectors run twice: with the
email.message.Message record.py used, and with the raw message text.
"""
import email
import email.policy
import json
import os
import pathlib

import pytest

import libsmtp
from replay import ScriptedServer, items

ROOT = pathlib.Path(__file__).resolve().parents[3]
VECTOR_DIR = pathlib.Path(os.environ.get("SMTP_CONFORMANCE_DIR") or ROOT / ".." / "shared" / "conformance" / "vectors")


def _vectors():
    if not VECTOR_DIR.is_dir():
        return []
    return sorted(VECTOR_DIR.glob("*.json"))


def _cases():
    out = []
    for path in _vectors():
        vector = json.loads(path.read_text(encoding="utf-8"))
        out.append(pytest.param(path, "message", id=vector["name"]))
        if any(c["op"] == "send_message" for c in vector["calls"]):
            out.append(pytest.param(path, "raw", id=vector["name"] + "[raw-message]"))
    return out


def test_vectors_found():
    assert _vectors(), "no conformance vectors in %s" % VECTOR_DIR


class ScriptedAuth:
    """record.py's authobject: the initial response (or None), then the
    scripted responses in turn ("" once they run out); challenges recorded."""

    def __init__(self, initial, responses):
        self.initial = initial
        self.responses = list(responses)
        self.challenges = []

    def __call__(self, challenge=None):
        if challenge is None:
            return self.initial
        self.challenges.append(challenge.decode("utf-8", "surrogateescape"))
        return self.responses.pop(0) if self.responses else ""


def run_call(s, call, host, port, send_message_as):
    """One vector call through libsmtp, as record.py made it through smtplib."""
    op, args = call["op"], dict(call.get("args", {}))
    if op == "connect":
        h = args.get("host", "{host}").replace("{host}", host).replace("{port}", str(port))
        pt = args.get("port", "{port}")
        pt = port if pt == "{port}" else int(pt)
        return s.connect(h, pt)
    if op == "auth":
        obj = ScriptedAuth(args.get("initial"), args.get("responses", []))
        try:
            return s.auth(args["mechanism"], obj, initial_response_ok=args.get("initial_response_ok", True))
        finally:
            if "challenges" in call:
                assert obj.challenges == call["challenges"], \
                    "auth: callback saw challenges %r where smtplib's saw %r" % (obj.challenges, call["challenges"])
    if op in ("sendmail", "data"):
        msg = args["msg"]
        if args.get("msg_kind", "str") == "bytes":
            msg = msg.encode("utf-8")
        if op == "data":
            return s.data(msg)
        return s.sendmail(args["from"], args["to"], msg, args.get("mail_options", []), args.get("rcpt_options", []))
    if op == "send_message":
        if send_message_as == "raw":
            m = args["msg"]
        else:
            m = email.message_from_bytes(args["msg"].encode("utf-8"), policy=email.policy.SMTP)
        return s.send_message(m, args.get("from"), args.get("to"), args.get("mail_options", []),
                              args.get("rcpt_options", []))
    if op == "login":
        return s.login(args["user"], args["password"], initial_response_ok=args.get("initial_response_ok", True))
    if op == "mail":
        return s.mail(args["sender"], args.get("options", []))
    if op == "rcpt":
        return s.rcpt(args["recipient"], args.get("options", []))
    if op == "docmd":
        return s.docmd(args["cmd"], args.get("args", ""))
    if op in ("helo", "ehlo"):
        return getattr(s, op)(args.get("name", ""))
    if op in ("verify", "expn"):
        return getattr(s, op)(args["address"])
    if op == "help":
        return s.help(args.get("args", ""))
    if op == "has_extn":
        return s.has_extn(args["name"])
    if op == "starttls":
        return s.starttls()
    if op in ("noop", "rset", "quit", "close", "ehlo_or_helo_if_needed"):
        return getattr(s, op)()
    raise AssertionError("unknown op %r" % op)


def _text(b):
    return b.decode("utf-8", "surrogateescape") if isinstance(b, bytes) else b


def jsonable(value):
    """record.py's jsonable(), checking the Python types on the way."""
    if isinstance(value, tuple):
        assert len(value) == 2 and type(value[0]) is int and isinstance(value[1], bytes), \
            "a reply must be (int, bytes), not %r" % (value,)
        return {"code": value[0], "message": _text(value[1])}
    if isinstance(value, dict):
        return {"refused": {k: jsonable(v) for k, v in value.items()}}
    if isinstance(value, bool):
        return {"value": value}
    if isinstance(value, bytes):
        return {"message": _text(value)}
    if value is None:
        return {}
    raise AssertionError("unexpected return value %r" % (value,))


def check_raise(op, exc, want):
    kind = want["kind"]
    assert type(exc).__name__ == kind, "%s: raised %s (%s) where smtplib raised %s" % (
        op, type(exc).__name__, exc, kind)
    if "code" in want:
        assert exc.smtp_code == want["code"], "%s: %s code %r where smtplib had %r" % (
            op, kind, exc.smtp_code, want["code"])
        assert isinstance(exc.smtp_error, bytes)
        assert _text(exc.smtp_error) == want["message"], "%s: %s message %r where smtplib had %r" % (
            op, kind, exc.smtp_error, want["message"])
    if "sender" in want:
        assert exc.sender == want["sender"]
    if "recipients" in want:
        got = {k: jsonable(v) for k, v in exc.recipients.items()}
        assert got == want["recipients"], "%s: refused recipients %r where smtplib had %r" % (
            op, got, want["recipients"])


def state(s):
    return {
        "connected": s.connected,
        "does_esmtp": bool(s.does_esmtp),
        "esmtp_features": {k: " ".join(v.split()) for k, v in sorted(s.esmtp_features.items())},
        "ehlo_resp": None if s.ehlo_resp is None else _text(s.ehlo_resp),
        "helo_resp": None if s.helo_resp is None else _text(s.helo_resp),
    }


def run_vector(vector, send_message_as="message"):
    server = ScriptedServer(items(vector))
    cls = libsmtp.LMTP if vector.get("kind") == "lmtp" else libsmtp.SMTP
    s = cls(local_hostname=vector.get("local_hostname", "client.example"), timeout=5)
    client_error = None
    try:
        for n, call in enumerate(vector["calls"]):
            op = call["op"]
            try:
                value = run_call(s, call, server.host, server.port, send_message_as)
            except AssertionError:
                raise
            except Exception as e:  # noqa: BLE001 - the exception is the result
                if "raises" not in call:
                    raise AssertionError("call %d %s: raised %s: %s where smtplib returned %r" % (
                        n, op, type(e).__name__, e, call.get("returns"))) from e
                check_raise(op, e, call["raises"])
            else:
                assert "returns" in call, "call %d %s: returned %r where smtplib raised %r" % (
                    n, op, value, call.get("raises"))
                got = jsonable(value)
                assert got == call["returns"], "call %d %s: returned %r where smtplib returned %r" % (
                    n, op, got, call["returns"])
            got = state(s)
            assert got == call["state"], "state after call %d %s: %r where smtplib had %r" % (
                n, op, got, call["state"])
    except AssertionError as e:
        client_error = str(e)
    finally:
        s.close()
        s.free()
    wire = server.result()
    problems = [p for p in (client_error, wire and "wire: " + wire) if p]
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("path,send_message_as", _cases())
def test_vector(path, send_message_as):
    vector = json.loads(path.read_text(encoding="utf-8"))
    run_vector(vector, send_message_as)
