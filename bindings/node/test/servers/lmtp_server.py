"""An aiosmtpd LMTP server for the Node binding's tests.

Refuses at RCPT any recipient whose local part starts with "refuse" (550)
and, after the data, any whose local part starts with "late" (452): one
reply per accepted recipient (RFC 2033 4.2).

Usage: python lmtp_server.py --port-file FILE [--parent-pid PID]
"""
import argparse
import asyncio
import os
import signal

from aiosmtpd.lmtp import LMTP


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 <%s>: no such mailbox" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        return "\r\n".join("452 4.2.2 <%s>: mailbox full" % r if r.startswith("late")
                           else "250 2.0.0 <%s>: delivered" % r for r in envelope.rcpt_tos)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    a = ap.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: LMTP(Handler()), "127.0.0.1", 0)
    with open(a.port_file + ".tmp", "w") as fh:
        fh.write(str(server.sockets[0].getsockname()[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    while not stop.is_set():
        if a.parent_pid:
            try:
                os.kill(a.parent_pid, 0)
            except OSError:
                break
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
