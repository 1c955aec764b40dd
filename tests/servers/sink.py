"""A local aiosmtpd server for the tests and the demo.

Stores each message it accepts as DIR/NNNN.eml (the exact bytes received,
dot-unstuffed) with DIR/NNNN.json beside it (envelope: mail_from, rcpt_tos,
mail_options, rcpt_options). Refuses any recipient whose local part starts
with "refuse" (550 5.1.1) so that tests can show refused recipients.

With --dsn it also advertises DSN (RFC 3461) and accepts RET, ENVID,
NOTIFY and ORCPT, and the JSON holds the raw MAIL and RCPT arguments as
the client sent them ("raw"). --size-limit N advertises SIZE N.
--greet-delay S waits S seconds before each greeting (the bindings' tests
of async calls and cancel: a call that waits on it must not block the
caller's event loop, and a cancel must end it at once).

Usage: python sink.py --dir DIR --port-file FILE [--host 127.0.0.1] [--port 0]
       [--dsn] [--size-limit N] [--greet-delay S] [--parent-pid PID]
Writes the chosen port to FILE once listening, then serves until SIGTERM.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

DSN_PARAMS = ("RET", "ENVID", "NOTIFY", "ORCPT")


class DsnSMTP(SMTP):
    """aiosmtpd refuses parameters it does not know; this one takes DSN's
    and keeps each MAIL and RCPT argument as sent."""

    def _getparams(self, params):
        result = super()._getparams(params)
        if result is not None:
            for name in DSN_PARAMS:
                result.pop(name, None)
        return result

    async def smtp_MAIL(self, arg):
        self.raw = [arg]
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        getattr(self, "raw", []).append(arg)
        await super().smtp_RCPT(arg)


class DsnController(Controller):
    def factory(self):
        return DsnSMTP(self.handler, **self.SMTP_kwargs)


class SlowSMTP(DsnSMTP):
    greet_delay = 0.0

    async def _handle_client(self):
        # aiosmtpd greets first thing in _handle_client; the delay goes before.
        await asyncio.sleep(self.greet_delay)
        await super()._handle_client()


class SlowController(Controller):
    def factory(self):
        return SlowSMTP(self.handler, **self.SMTP_kwargs)


class Sink:
    def __init__(self, directory, dsn=False):
        self.directory = directory
        self.dsn = dsn
        self.count = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.dsn:
            responses.insert(len(responses) - 1, "250-DSN")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("refuse"):
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.directory, "%04d" % n)
        with open(base + ".eml", "wb") as fh:
            fh.write(envelope.original_content)
        with open(base + ".json", "w") as fh:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options,
                       "rcpt_options": envelope.rcpt_options,
                       "raw": getattr(server, "raw", [])}, fh, ensure_ascii=False)
        return "250 2.0.0 OK: queued as %04d" % n


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def publish_and_wait(port, port_file, parent_pid):
    """Write the port to port_file (atomically) and block until SIGTERM,
    SIGINT, or the death of process parent_pid (the test that started us)."""
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(port))
    os.replace(port_file + ".tmp", port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watch_parent(parent_pid, stop)
    stop.wait()


def watch_parent(pid, stop):
    """Stop when process `pid` (the test that started us) is gone."""
    if not pid:
        return

    def watch():
        while not stop.wait(0.5):
            try:
                os.kill(pid, 0)
            except OSError:
                stop.set()
    threading.Thread(target=watch, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dsn", action="store_true")
    ap.add_argument("--size-limit", type=int, default=200 * 1024 * 1024)
    ap.add_argument("--greet-delay", type=float, default=0.0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    port = a.port or free_port(a.host)
    cls = DsnController if a.dsn else Controller
    if a.greet_delay:
        SlowSMTP.greet_delay = a.greet_delay
        cls = SlowController
    controller = cls(Sink(a.dir, a.dsn), hostname=a.host, port=port, server_hostname="sink.test",
                     data_size_limit=a.size_limit, enable_SMTPUTF8=True)
    controller.start()
    publish_and_wait(port, a.port_file, a.parent_pid)
    controller.stop()

if __name__ == "__main__":
    main()
