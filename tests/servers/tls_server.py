"""aiosmtpd over TLS, for the TLS tests.

--mode starttls: plain SMTP offering STARTTLS; --mode implicit: TLS from
the first byte (SMTP_SSL); --mode tls10: a bare TLS server that speaks only
TLS 1.0 (no SMTP; a client must refuse the handshake). Messages are stored
as in sink.py (DIR/NNNN.eml). --client-ca FILE requires a client
certificate signed by that CA.

Usage: python tls_server.py --mode M --cert C --key K --dir D --port-file F
       [--client-ca CA] [--parent-pid PID]
"""
import argparse
import os
import socket
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sink import Sink, publish_and_wait  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402


def context(a, protocol=ssl.PROTOCOL_TLS_SERVER):
    ctx = ssl.SSLContext(protocol)
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(a.client_ca)
    return ctx


def tls10_server(a, port, stop):
    ctx = context(a)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", port))
    lsock.listen(5)
    lsock.settimeout(0.5)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue
            conn.settimeout(5)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"220 tls10 ready\r\n")
            except (ssl.SSLError, OSError):
                pass
    threading.Thread(target=serve, daemon=True).start()
    return lsock


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["starttls", "implicit", "tls10"], required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--client-ca")
    ap.add_argument("--parent-pid", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = threading.Event()
    controller = None
    if a.mode == "tls10":
        lsock = tls10_server(a, port, stop)
    elif a.mode == "starttls":
        controller = Controller(Sink(a.dir), hostname="127.0.0.1", port=port, server_hostname="localhost",
                                tls_context=context(a), require_starttls=False)
    else:
        controller = Controller(Sink(a.dir), hostname="127.0.0.1", port=port, server_hostname="localhost",
                                ssl_context=context(a))
    if controller:
        controller.start()
    publish_and_wait(port, a.port_file, a.parent_pid)
    stop.set()
    if controller:
        controller.stop()
    else:
        lsock.close()

if __name__ == "__main__":
    main()
