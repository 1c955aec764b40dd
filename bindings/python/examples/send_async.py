"""Send one message with libsmtp.aio (the README's first example).

    python send_async.py [HOST:PORT]      (default localhost:25)
"""
import asyncio
import sys

import libsmtp.aio

MESSAGE = b"""\
From: alice@example.com\r
To: bob@example.com\r
Subject: hello from libsmtp.aio\r
\r
Sent without blocking the event loop.\r
"""


async def main(server: str) -> None:
    host, port = server.rsplit(":", 1)
    async with libsmtp.aio.SMTP(host, int(port), timeout=30) as smtp:
        refused = await smtp.sendmail("alice@example.com", ["bob@example.com"], MESSAGE)
        print("sent; refused:", refused)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:25"))
