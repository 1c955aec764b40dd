"""A message signed with DKIM, then sent: the EmailMessage is composed by
Python's email package, libsmtp.DKIMSigner signs it (rsa-sha256 or
ed25519-sha256, after the key), and the signed bytes go out unchanged.

    python send_dkim.py [HOST:PORT] [KEY.pem] [DOMAIN] [SELECTOR]

Prints the TXT record to publish at SELECTOR._domainkey.DOMAIN.
"""
import sys
from email.message import EmailMessage

import libsmtp


def main(server: str, key_file: str, domain: str, selector: str) -> None:
    with open(key_file, encoding="ascii") as f:
        signer = libsmtp.DKIMSigner(f.read(), domain, selector)
    print("%s._domainkey.%s TXT %s" % (selector, domain, signer.dns_record()))

    msg = EmailMessage()
    msg["From"] = "Alice <alice@%s>" % domain
    msg["To"] = "bob@example.org"
    msg["Subject"] = "signed by libsmtp"
    msg.set_content("This message carries a DKIM-Signature field.\n")
    signed = signer.sign(msg)  # the field, then the message as it is sent (Bcc removed, CRLF)

    with libsmtp.SMTP(server, timeout=30) as smtp:
        refused = smtp.send_message(signed)  # the envelope from the signed message's headers
        print("sent %d bytes (%s); refused: %s" % (len(signed), signer.algorithm, sorted(refused)))


if __name__ == "__main__":
    args = sys.argv[1:] + [None] * 4
    main(args[0] or "localhost:25", args[1] or "dkim.pem", args[2] or "example.com", args[3] or "mail")
