"""genmsg: the large message of cases 3 and 5, written twice: with CRLF line
ends (what libsmtp and smtplib send) and with LF (for `smtp-source -F`, which
appends CRLF to each line itself), so all three put the same bytes on the wire.

Text with short and long lines: 60% of the lines are 0-78 characters, 30%
79-400, 10% 401-998 (the RFC 5321 limit); 2% start with a dot (to be
dot-stuffed). Deterministic (fixed seed).

    python3 genmsg.py SIZE OUT_CRLF OUT_LF
"""

import random
import string
import sys


def main():
    size, out_crlf, out_lf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rng = random.Random(7)
    chars = (string.ascii_letters + string.digits + "     ,.;:-").encode()
    pool = []
    for _ in range(8192):
        r = rng.random()
        n = rng.randint(0, 78) if r < 0.6 else rng.randint(79, 400) if r < 0.9 else rng.randint(401, 998)
        line = bytes(rng.choice(chars) for _ in range(n)).strip(b".")
        if rng.random() < 0.02:
            line = b"." + line[1:]
        pool.append(line)
    header = (b"From: bench@example.com\r\nTo: sink@example.com\r\nSubject: libsmtp benchmark, 100 MB\r\n"
              b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
    parts = [header]
    total = len(header)
    while True:
        line = rng.choice(pool)
        if total + len(line) + 2 > size:
            break
        parts.append(line + b"\r\n")
        total += len(line) + 2
    # Fill up to exactly SIZE bytes with one last line.
    rest = size - total
    if rest >= 2:
        parts.append(b"x" * (rest - 2) + b"\r\n")
    elif rest == 1:
        parts[-1] = parts[-1][:-2] + b"x\r\n"
    data = b"".join(parts)
    assert len(data) == size, (len(data), size)
    with open(out_crlf, "wb") as f:
        f.write(data)
    with open(out_lf, "wb") as f:
        f.write(data.replace(b"\r\n", b"\n"))


if __name__ == "__main__":
    main()
