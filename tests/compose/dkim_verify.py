"""Verify a message's DKIM signatures with dkimpy, an independent verifier,
the public key coming from a file instead of DNS (dkimpy's dnsfunc hook).

Usage: python dkim_verify.py FILE.eml RECORD.txt
Prints "pass" and exits 0 when every signature verifies, else prints why
and exits 1.
"""
import sys

import dkim


def main(eml, record):
    txt = open(record, "rb").read().strip()

    def dnsfunc(name, timeout=5):
        return txt

    msg = open(eml, "rb").read()
    d = dkim.DKIM(msg)
    sigs = [i for i, (name, _) in enumerate(d.headers) if name.lower() == b"dkim-signature"]
    if not sigs:
        print("no DKIM-Signature field")
        return 1
    for i in range(len(sigs)):
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
        if not ok:
            print("fail: signature %d does not verify" % i)
            return 1
    print("pass")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
