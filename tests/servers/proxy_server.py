"""A real proxy on loopback for the proxy tests: pproxy (PyPI) serving
SOCKS5 (RFC 1928, with RFC 1929 user/password when --auth is given) or
HTTP CONNECT (with Basic proxy authentication when --auth is given).
Every connection must authenticate (pproxy's --auth 0: no "this address
authenticated before" exemption).

Usage: python proxy_server.py --scheme socks5|http [--auth USER:PASS]
       --port-file F [--parent-pid PID] [--dir D (ignored)]
Writes the port to F once the proxy accepts connections; runs until killed
(SIGTERM's default action) or until process PID is gone.
"""
import argparse
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sink import free_port, watch_parent  # noqa: E402

import pproxy.server  # noqa: E402


def publish_when_listening(port, port_file, stop):
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(port))
    os.replace(port_file + ".tmp", port_file)
    stop.wait()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheme", choices=["socks5", "http"], required=True)
    ap.add_argument("--auth", default="")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--dir", default="")
    a = ap.parse_args()
    port = free_port("127.0.0.1")
    uri = "%s://127.0.0.1:%d" % (a.scheme, port) + ("#" + a.auth if a.auth else "")
    stop = threading.Event()
    watch_parent(a.parent_pid, stop)
    threading.Thread(target=publish_when_listening, args=(port, a.port_file, stop), daemon=True).start()
    pproxy.server.main(["-l", uri, "--auth", "0"])


if __name__ == "__main__":
    main()
