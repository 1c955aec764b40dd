"""smtplib_bench: the Python smtplib side of the benchmark (bench/run.sh).

    smtplib_bench.py loop    HOST PORT COUNT SIZE          one session, sendmail per message
    smtplib_bench.py threads HOST PORT THREADS PER SIZE    a session per thread
    smtplib_bench.py buffer  HOST PORT FILE                one message (bytes) read into memory
    smtplib_bench.py ssl     HOST PORT FILE CAFILE         SMTP_SSL, one message (bytes)

Messages are bytes (smtplib's path without line-ending conversion, as
libsmtp's SMTP_MSG_RAW), built as libsmtp_bench.c builds them. Prints one
line of JSON, as libsmtp_bench does.
"""

import json
import resource
import smtplib
import ssl
import sys
import threading
import time

FROM = "bench@example.com"
TO = ["sink@example.com"]


def make_message(size):
    hdr = b"From: bench@example.com\r\nTo: sink@example.com\r\nSubject: libsmtp benchmark\r\n\r\n"
    m = bytearray(hdr[:size])
    i = len(m)
    while i < size:
        line = bytearray()
        col = 0
        while i < size and col < 76:
            line.append(ord("a") + (i + col) % 26)
            i += 1
            col += 1
        m += line
        if i < size:
            m += b"\r"
            i += 1
        if i < size:
            m += b"\n"
            i += 1
    if size >= 2:
        m[size - 2 : size] = b"\r\n"
    return bytes(m)


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


RSS_SESSION = [0]
CPU0 = [0.0]


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def report(mode, messages, nbytes, seconds, before):
    print(json.dumps({"client": "smtplib", "mode": mode, "messages": messages, "bytes": nbytes,
                      "seconds": round(seconds, 6), "rss_before_kb": before, "rss_session_kb": RSS_SESSION[0],
                      "rss_peak_kb": maxrss_kb(), "send_cpu_s": round(cpu_s() - CPU0[0], 4),
                      "python": sys.version.split()[0]}))


def send_loop(host, port, msg, count):
    s = smtplib.SMTP(host, port)
    s.ehlo()
    for _ in range(count):
        s.sendmail(FROM, TO, msg)
    s.quit()


def main():
    mode = sys.argv[1]
    host, port = sys.argv[2], int(sys.argv[3])
    if mode == "loop":
        count, size = int(sys.argv[4]), int(sys.argv[5])
        msg = make_message(size)
        before = maxrss_kb()
        CPU0[0] = cpu_s()
        t0 = time.perf_counter()
        send_loop(host, port, msg, count)
        report(mode, count, count * size, time.perf_counter() - t0, before)
    elif mode == "threads":
        threads, per, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        msg = make_message(size)
        errors = []

        def work():
            try:
                send_loop(host, port, msg, per)
            except Exception as e:  # reported below; the run fails
                errors.append(e)

        before = maxrss_kb()
        CPU0[0] = cpu_s()
        t0 = time.perf_counter()
        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            sys.exit(f"smtplib_bench: {errors[0]!r}")
        report(mode, threads * per, threads * per * size, time.perf_counter() - t0, before)
    elif mode in ("buffer", "ssl"):
        with open(sys.argv[4], "rb") as f:
            msg = f.read()
        before = maxrss_kb()
        CPU0[0] = cpu_s()
        t0 = time.perf_counter()
        if mode == "ssl":
            ctx = ssl.create_default_context(cafile=sys.argv[5])
            s = smtplib.SMTP_SSL(host, port, context=ctx)
            print(f"smtplib_bench: {s.sock.version()} {s.sock.cipher()[0]}", file=sys.stderr)
        else:
            s = smtplib.SMTP(host, port)
        s.ehlo()
        RSS_SESSION[0] = maxrss_kb()
        s.sendmail(FROM, TO, msg)
        s.quit()
        report(mode, 1, len(msg), time.perf_counter() - t0, before)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
