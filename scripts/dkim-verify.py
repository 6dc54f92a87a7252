#!/usr/bin/env python3
"""Verifies every DKIM signature of one message with dkimpy, an implementation
independent of bulletin's, against DNS TXT records given on the command line
(no DNS is asked).

    scripts/dkim-verify.py MESSAGE_FILE SELECTOR='v=DKIM1; k=rsa; p=...' [...]

Prints "pass N" (N signatures) and exits 0 when every DKIM-Signature
verifies; else prints why and exits 1. Needs PyPI's dkimpy (and PyNaCl for
Ed25519 keys).
"""
import sys

import dkim


def main() -> int:
    message = open(sys.argv[1], "rb").read()
    records = {}
    for arg in sys.argv[2:]:
        selector, record = arg.split("=", 1)
        records[selector.encode()] = record.encode()

    def dnsfunc(name, timeout=5):
        return records.get(name.split(b"._domainkey.")[0], b"")

    head = message.split(b"\r\n\r\n", 1)[0]
    signatures = sum(
        1 for line in head.split(b"\r\n") if line.lower().startswith(b"dkim-signature:")
    )
    if signatures == 0:
        print("fail: no DKIM-Signature")
        return 1
    verifier = dkim.DKIM(message)
    for index in range(signatures):
        if not verifier.verify(idx=index, dnsfunc=dnsfunc):
            print(f"fail: signature {index} does not verify")
            return 1
    print(f"pass {signatures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
