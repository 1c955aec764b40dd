"""Many messages at once through an asyncio pool of connections, and a
task cancelled by a deadline.

    python pool_async.py [HOST:PORT]
"""
import asyncio
import sys
from typing import Dict, List, Tuple

import libsmtp
import libsmtp.aio


async def main(server: str) -> None:
    host, port = server.rsplit(":", 1)
    async with libsmtp.aio.Pool(host, int(port), max_connections=3, timeout=30) as pool:
        pool.sync.set_envelope(None)  # settings live on the synchronous pool
        sends = [pool.sendmail("alice@example.com", ["user%d@example.com" % i],
                               b"Subject: message %d\r\n\r\nhello\r\n" % i) for i in range(10)]
        results: List[Dict[str, Tuple[int, bytes]]] = await asyncio.gather(*sends)
        print("sent", len(results), "messages; stats:", pool.stats())
        try:
            # asyncio.wait_for cancels the call (smtp_session_cancel) at the deadline.
            await asyncio.wait_for(pool.sendmail("alice@example.com", ["late@example.com"], b"\r\nlate\r\n"), 30)
        except (asyncio.TimeoutError, libsmtp.SMTPException) as e:
            print("not sent:", e)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:25"))
