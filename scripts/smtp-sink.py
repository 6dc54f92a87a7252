#!/usr/bin/env python3
"""A real SMTP server for tests and benchmarks: accepts mail on 127.0.0.1 and
appends every message it accepts to a file, one JSON object a line:

    {"helo": "mail.example.org", "mail_from": "news@example.org", "rcpt_tos": ["reader@example.org"], "data": "..."}

The file is flushed after each message, so a reader sees every accepted message
as soon as the client has had its "250". The first line on standard output is
the port it listens on (useful with --port 0, the default).

It can be told to refuse some recipients, at RCPT TO (so nothing is recorded):

    --tempfail REGEX [--tempfail-times N]   answer 451 (try again later), the
                                            first N times per address (default:
                                            always)
    --bounce REGEX                          answer 550 5.1.1 (no such user)

REGEX is matched (re.search, case-insensitive) against the bare address.

    scripts/smtp-sink.py received.jsonl [--port 2525] [--exit-on-stdin-eof]

Needs PyPI's aiosmtpd (`pip install aiosmtpd`).
"""

import argparse
import asyncio
import json
import re
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, tempfail, tempfail_times, bounce):
        self.out = out
        self.tempfail = tempfail
        self.tempfail_times = tempfail_times
        self.bounce = bounce
        self.refused = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.bounce is not None and self.bounce.search(address):
            return "550 5.1.1 <%s>: no such user here" % address
        if self.tempfail is not None and self.tempfail.search(address):
            times = self.refused.get(address, 0)
            if self.tempfail_times is None or times < self.tempfail_times:
                self.refused[address] = times + 1
                return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        record = {
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data,
        }
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        return "250 2.0.0 OK: queued"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("record", help="append accepted messages to this file (JSON lines)")
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument("--tempfail", metavar="REGEX")
    parser.add_argument("--tempfail-times", type=int, metavar="N")
    parser.add_argument("--bounce", metavar="REGEX")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input closes (so a test's sink never outlives the test)",
    )
    args = parser.parse_args()

    def pattern(p):
        return re.compile(p, re.IGNORECASE) if p else None

    out = open(args.record, "a", encoding="utf-8")
    sink = Sink(out, pattern(args.tempfail), args.tempfail_times, pattern(args.bounce))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        # A fixed hostname: aiosmtpd would otherwise ask the resolver for the FQDN.
        lambda: SMTP(sink, hostname="smtp-sink.localhost", ident="smtp-sink"),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_on_stdin_eof:

        def watch_stdin():
            sys.stdin.buffer.read()
            loop.call_soon_threadsafe(stop.set)

        loop.run_in_executor(None, watch_stdin)
    await stop.wait()
    server.close()
    out.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
