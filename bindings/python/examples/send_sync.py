"""smtplib's API, one import changed: an EmailMessage through libsmtp.SMTP.

    python send_sync.py [HOST:PORT]
"""
import sys
from email.message import EmailMessage

import libsmtp as smtplib


def main(server: str) -> None:
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = "bob@example.com, refuse-me@example.com"
    msg["Subject"] = "hello from libsmtp"
    msg.set_content("Sent through smtplib's API.\n")
    with smtplib.SMTP(server, timeout=30) as smtp:
        smtp.set_timeout("call", 60)  # no call lasts longer, whatever the server does
        refused = smtp.send_message(msg)
        for r in smtp.rcpt_results():
            print(r.address, "refused" if r.refused else "accepted", r.final_code)
        print("refused:", sorted(refused))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "localhost:25")
