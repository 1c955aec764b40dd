"""Parse a message with Python's email package (policy.default) and print
what a reader would see, as JSON: subject, addresses (display name and
address), the text and HTML bodies, and each attachment or inline part
(file name, type, Content-ID, length and SHA-256 of its bytes). The
compose tests compare it with what they gave the builder: an independent
parser reading the builder's output.

Usage: python parse_message.py FILE.eml
"""
import email
import email.policy
import hashlib
import json
import sys


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return []
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def main(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "defects": [type(d).__name__ for d in msg.defects],
        "subject": str(msg["subject"]) if msg["subject"] is not None else None,
        "date": str(msg["date"]) if msg["date"] is not None else None,
        "message_id": str(msg["message-id"]),
        "from": addresses(msg, "from"),
        "to": addresses(msg, "to"),
        "cc": addresses(msg, "cc"),
        "reply_to": addresses(msg, "reply-to"),
        "bcc_present": "bcc" in msg,
        "content_type": msg.get_content_type(),
        "text": None,
        "html": None,
        "parts": [],
        "max_line": max(len(line) for line in raw.split(b"\r\n")),
        "bare_lf": raw.replace(b"\r\n", b"").count(b"\n"),
    }
    bodies = []
    for kind in ("plain", "html"):
        body = msg.get_body(preferencelist=(kind,))
        if body is not None and body.get_content_subtype() == kind:
            out["text" if kind == "plain" else "html"] = body.get_content().replace("\r\n", "\n")
            bodies.append(body)
    for part in msg.walk():
        if part.is_multipart() or any(part is b for b in bodies):
            continue
        data = part.get_payload(decode=True) or b""
        out["defects"] += [type(d).__name__ for d in part.defects]
        out["parts"].append({
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "disposition": part.get_content_disposition(),
            "content_id": part.get("content-id"),
            "len": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
