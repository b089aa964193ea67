"""A real SMTP server for dsguard's email tests (aiosmtpd from PyPI).

Usage: python3 smtp_sink.py PORT OUTDIR [--user U --password P] [--tempfail N]
         [--reject-rcpt SUBSTRING] [--starttls CERT KEY]

Listens on 127.0.0.1:PORT. Every accepted message is parsed with Python's email package and
written to OUTDIR/<n>.json as {subject, from, to, message_id, text, html}. With --user/--password
it requires AUTH (over plain text too, as tests run on loopback). --tempfail N answers the first N
messages with "451" (retry later); --reject-rcpt answers "550" to matching recipients. With
--starttls it offers and requires STARTTLS with that certificate. Prints "READY" once listening.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir, tempfail, reject):
        self.outdir = outdir
        self.tempfail = tempfail
        self.reject = reject
        self.seen = 0
        self.saved = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject in address:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen <= self.tempfail:
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "subject": str(msg["subject"]),
            "from": str(msg["from"]),
            "to": envelope.rcpt_tos,
            "message_id": str(msg["message-id"]),
            "content_type": msg.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        self.saved += 1
        path = os.path.join(self.outdir, "%d.json" % self.saved)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("outdir")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--tempfail", type=int, default=0)
    p.add_argument("--reject-rcpt")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    args = p.parse_args()

    kwargs = {}
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == args.user
                and auth_data.password.decode() == args.password
            )
            if ok:
                return AuthResult(success=True)
            return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

        kwargs.update(authenticator=authenticator, auth_required=True)
        kwargs["auth_require_tls"] = bool(args.starttls)
    if args.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.starttls[0], args.starttls[1])
        kwargs.update(tls_context=ctx, require_starttls=True)

    handler = Handler(args.outdir, args.tempfail, args.reject_rcpt)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
