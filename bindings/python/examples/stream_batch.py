"""A message streamed from a file-like object and from a generator, then a
batch of messages pipelined on one connection, with DSN options when the
server offers DSN.

    python stream_batch.py [HOST:PORT]
"""
import io
import sys
from typing import Iterator

import libsmtp


def body_lines(n: int) -> Iterator[bytes]:
    yield b"From: alice@example.com\r\nSubject: generated\r\n\r\n"
    for i in range(n):
        yield b"line %d\r\n" % i


def main(server: str) -> None:
    with libsmtp.SMTP(server, timeout=30) as smtp:
        smtp.ehlo()
        if smtp.has_extn("dsn"):
            smtp.set_envelope(libsmtp.Envelope(dsn_ret="HDRS", dsn_notify="FAILURE,DELAY"))
        smtp.sendmail_stream("alice@example.com", ["bob@example.com"],
                             io.BytesIO(b"Subject: from a file\r\n\r\nhello\r\n"))
        smtp.sendmail_stream("alice@example.com", ["bob@example.com"], body_lines(1000))
        results = smtp.sendmail_batch([("alice@example.com", ["carol@example.com"], b"Subject: 1\r\n\r\none\r\n"),
                                       ("alice@example.com", ["refuse@example.com"], b"Subject: 2\r\n\r\ntwo\r\n")])
        for r in results:
            print("sent" if r.error is None else "failed: %r" % r.error, r.rcpt_codes)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "localhost:25")
