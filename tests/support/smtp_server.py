#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for hark's email channel tests (needs aiosmtpd).

    smtp_server.py --port 0 --mode plain|starttls|tls --outdir DIR
                   [--cert CERT.pem --key KEY.pem] [--user U --password P]
                   [--auth-mechanisms PLAIN,LOGIN]

Prints "READY <port>" on stdout once it listens (port 0 picks a free one). Each
accepted message is written to DIR as <n>.eml (the raw message as received) plus
<n>.json (envelope: mail_from, rcpt_tos, tls, auth_user, auth_mechanism; and the
message parsed by Python's email package: headers as [name, decoded value] pairs,
parts as {content_type, charset, filename, content} with transfer encodings undone;
binary parts as content_b64); the
.json is written last, so a test waits for it. Recipients whose local part starts
with "reject" get "550 5.1.1", those starting with "tempfail" get "451 4.3.0".
Runs until killed or until its stdin closes (so it never outlives the test).
"""
import argparse
import base64
import asyncio
import email
import email.policy
import json
import logging
import os
import ssl
import sys
import threading
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 No such user here"
        if local.startswith("tempfail"):
            return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        raw = envelope.original_content or envelope.content
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in message.walk():
            if part.is_multipart():
                continue
            content = part.get_content()
            entry = {
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "filename": part.get_filename(),
            }
            if isinstance(content, bytes):
                # Attachments: their bytes, base64 (JSON holds text only).
                entry["content_b64"] = base64.b64encode(content).decode()
            else:
                entry["content"] = content
            parts.append(entry)
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": ssl_object is not None or session.ssl is not None,
            "auth_user": getattr(session, "hark_user", None),
            "auth_mechanism": getattr(session, "hark_mechanism", None),
            "content_type": message.get_content_type(),
            "headers": [[k, str(v)] for k, v in message.items()],
            "parts": parts,
        }
        tmp = base + ".json.tmp"
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.replace(tmp, base + ".json")
        return "250 Message accepted for delivery"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        if ok:
            session.hark_user = user
            session.hark_mechanism = mechanism
        return AuthResult(success=ok, handled=False)

    return authenticate


def main():
    # aiosmtpd warns about AUTH without STARTTLS (wanted here) and its own deprecations,
    # and logs a traceback for each refused TLS handshake (some tests want that).
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--auth-mechanisms", default="PLAIN,LOGIN")
    p.add_argument("--outdir", required=True)
    args = p.parse_args()
    os.makedirs(args.outdir, exist_ok=True)

    context = None
    if args.mode in ("starttls", "tls"):
        if not (args.cert and args.key):
            p.error("--cert and --key are required for starttls and tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)

    handler = Recorder(args.outdir)
    kwargs = {"hostname": "hark-test-smtp", "ident": "hark test SMTP"}
    if args.mode == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    if args.user is not None:
        wanted = {m.strip().upper() for m in args.auth_mechanisms.split(",") if m.strip()}
        kwargs.update(
            authenticator=make_authenticator(args.user, args.password or ""),
            auth_required=True,
            # STARTTLS mode insists on TLS before AUTH; implicit TLS already has it, and
            # aiosmtpd only knows about STARTTLS, so it must not insist there.
            auth_require_tls=args.mode == "starttls",
            auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in wanted],
        )

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, loop=loop, **kwargs),
            host="127.0.0.1",
            port=args.port,
            ssl=context if args.mode == "tls" else None,
        )
        port = server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        stop = asyncio.Event()

        def watch_stdin():
            # The test holds our stdin open; EOF means it is gone.
            sys.stdin.buffer.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        async with server:
            await stop.wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
