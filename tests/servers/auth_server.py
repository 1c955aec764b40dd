"""An aiosmtpd server that authenticates, for the authentication tests.

PLAIN and LOGIN (aiosmtpd's own) accept alice/s3cret and jörg/pässword;
handler mechanisms added here:
- XOAUTH2 and OAUTHBEARER accept the token "good-token"; any other token
  gets the provider-style JSON error challenge, then 535;
- SCRAM-SHA-256 (RFC 5802/7677 server side) knows user/pencil; for the user
  "liar" it sends a wrong server signature;
- X-TOKEN (for examples-c/auth_callback.c): challenge "token?", accepts the
  response "open sesame".
Cleartext AUTH is allowed (loopback only). Messages are accepted and dropped.

Usage: python auth_server.py --port-file FILE
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import socket
import logging

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sink import publish_and_wait  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword, MISSING

# aiosmtpd logs a deprecation warning about session.login_data on every login.
logging.getLogger("mail.log").setLevel(logging.ERROR)

USERS = {b"alice": b"s3cret", "jörg".encode(): "pässword".encode()}
SCRAM_USERS = {"user": b"pencil", "liar": b"pencil"}
SALT = b"libsmtp-test-salt"
ITERATIONS = 4096


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and USERS.get(auth_data.login) == auth_data.password
    # handled=False: aiosmtpd sends the 535 itself.
    return AuthResult(success=ok, handled=False)


def _hmac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 OK"

    async def _first(self, server, args):
        if len(args) == 2:
            return base64.b64decode(args[1]) if args[1] != "=" else b""
        return await server.challenge_auth(b"")

    async def _bearer(self, server, args, parse, error_json):
        msg = await self._first(server, args)
        if msg is MISSING:
            return AuthResult(success=False, handled=True)
        user, token = parse(msg)
        if token == b"good-token":
            return AuthResult(success=True, auth_data=user)
        answer = await server.challenge_auth(error_json)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")

    async def auth_XOAUTH2(self, server, args):
        def parse(msg):
            fields = dict(f.split(b"=", 1) for f in msg.split(b"\x01") if b"=" in f)
            return fields.get(b"user"), fields.get(b"auth", b"").replace(b"Bearer ", b"", 1)
        err = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.example/"})
        return await self._bearer(server, args, parse, err)

    async def auth_OAUTHBEARER(self, server, args):
        def parse(msg):
            gs2, _, rest = msg.partition(b",\x01")
            user = gs2.split(b"a=", 1)[1] if b"a=" in gs2 else b""
            fields = dict(f.split(b"=", 1) for f in rest.split(b"\x01") if b"=" in f)
            return user, fields.get(b"auth", b"").replace(b"Bearer ", b"", 1)
        err = json.dumps({"status": "invalid_token", "scope": "mail"})
        return await self._bearer(server, args, parse, err)

    async def auth_SCRAM__SHA__256(self, server, args):
        first = await self._first(server, args)
        if first is MISSING or not first.startswith(b"n,,"):
            return AuthResult(success=False, handled=False)
        bare = first[3:].decode()
        attrs = dict(kv.split("=", 1) for kv in bare.split(","))
        user, cnonce = attrs.get("n", ""), attrs.get("r", "")
        nonce = cnonce + base64.b64encode(os.urandom(12)).decode()
        server_first = "r=%s,s=%s,i=%d" % (nonce, base64.b64encode(SALT).decode(), ITERATIONS)
        final = await server.challenge_auth(server_first)
        if final is MISSING:
            return AuthResult(success=False, handled=True)
        final = final.decode()
        without_proof, _, proof = final.rpartition(",p=")
        if without_proof != "c=biws,r=" + nonce or user not in SCRAM_USERS:
            return AuthResult(success=False, handled=False)
        auth_message = ("%s,%s,%s" % (bare, server_first, without_proof)).encode()
        salted = hashlib.pbkdf2_hmac("sha256", SCRAM_USERS[user], SALT, ITERATIONS)
        client_key = _hmac(salted, b"Client Key")
        signature = _hmac(hashlib.sha256(client_key).digest(), auth_message)
        expected = bytes(a ^ b for a, b in zip(client_key, signature))
        if base64.b64decode(proof) != expected:
            return AuthResult(success=False, handled=False)
        server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        if user == "liar":
            server_signature = bytes(32)
        answer = await server.challenge_auth("v=" + base64.b64encode(server_signature).decode())
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=True, auth_data=user)

    async def auth_X__TOKEN(self, server, args):
        if len(args) == 2:
            return AuthResult(success=False, handled=False, message="501 5.5.2 X-TOKEN takes no initial response")
        answer = await server.challenge_auth(b"token?")
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=answer == b"open sesame", handled=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="auth.test",
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    publish_and_wait(port, a.port_file, a.parent_pid)
    controller.stop()

if __name__ == "__main__":
    main()
