"""Peak memory of sending a 100 MB attachment: examples-c/compose attaches a
100 MB file (read a chunk at a time, base64-encoded on the way) and sends
it to a discarding SMTP server here; its peak RSS, as GNU time reports it
(getrusage of its child), must stay under 16 MiB, and the server must
have received the whole encoded message. GNU time rather than our own
wait4: Linux counts the memory a child had before exec in its maximum, and
a child of this Python process starts with Python's.

Usage: python rss_check.py PATH/TO/compose [MIB]
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

LIMIT_KIB = 16 * 1024


def serve(listener, got):
    """One SMTP session, lockstep, the message counted and discarded."""
    conn, _ = listener.accept()
    conn.settimeout(60)
    f = conn.makefile("rb")
    conn.sendall(b"220 discard\r\n")
    while True:
        line = f.readline()
        if not line:
            return
        verb = line[:4].upper()
        if verb == b"EHLO":
            conn.sendall(b"250-discard\r\n250 SIZE 1000000000\r\n")
        elif verb == b"DATA":
            conn.sendall(b"354 go\r\n")
            n = 0
            while True:
                line = f.readline(1 << 16)
                if not line or line == b".\r\n":
                    break
                n += len(line)
            got["bytes"] = n
            conn.sendall(b"250 discarded\r\n")
        elif verb == b"QUIT":
            conn.sendall(b"221 bye\r\n")
            return
        else:
            conn.sendall(b"250 ok\r\n")


def main(binary, mib=100):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    got = {}
    threading.Thread(target=serve, args=(listener, got), daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="libsmtp-rss-") as d:
        big = os.path.join(d, "big.bin")
        with open(big, "wb") as fh:
            for _ in range(mib):
                fh.write(os.urandom(1 << 20))
        text = os.path.join(d, "body.txt")
        with open(text, "w") as fh:
            fh.write("A large attachment follows.\n")
        start = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "maxrss %M", binary, "127.0.0.1:%d" % port,
                               "--from", "a@example.com", "--to", "b@example.com", "--subject", "big",
                               "--text", text, "--attach", big],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
        took = time.monotonic() - start
    lines = [l for l in proc.stderr.splitlines() if l.startswith("maxrss ")]
    peak = int(lines[-1].split()[1]) if lines else 1 << 30
    if not lines:
        print(proc.stderr)
    want = mib * (1 << 20) * 4 // 3
    print("rss_check: %d MiB attachment sent in %.1f s, %d bytes received, peak RSS %d KiB (limit %d KiB)"
          % (mib, took, got.get("bytes", 0), peak, LIMIT_KIB))
    ok = proc.returncode == 0 and got.get("bytes", 0) > want and peak < LIMIT_KIB
    print("rss_check: " + ("ok" if ok else "FAILED (exit status %d)" % proc.returncode))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], *(int(a) for a in sys.argv[2:3])))
