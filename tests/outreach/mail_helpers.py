"""Shared data for the sequence tests: communities with and without addresses, raw replies and bounces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path

SMTP_USER = "sender"
SMTP_PASSWORD = "s3cret:pw"
IMAP_USER = "inbox"
IMAP_PASSWORD = "imap-s3cret"
FROM = "Ana from Shop <ana@shop.example>"
FROM_ADDR = "ana@shop.example"

COMMUNITIES = [
    {"url": "https://alpha-yoga.example", "name": "Alpha Yoga", "kind": "blog",
     "description": "Yoga at home for beginners", "emails": ["hello@alpha-yoga.example"]},
    {"url": "https://bravo-bakes.example", "name": "Bravo Bakes", "kind": "blog",
     "description": "Sourdough and home baking", "emails": ["bravo@bravo-bakes.example"]},
    {"url": "https://charlie-runs.example", "name": "Charlie Runs", "kind": "podcast",
     "description": "A podcast about trail running", "emails": ["charlie@charlie-runs.example"]},
    {"url": "https://delta-knits.example", "name": "Delta Knits", "kind": "blog",
     "description": "Knitting patterns", "emails": []},
]
A, B, C, D = (c["url"] for c in COMMUNITIES)
ADDR = {c["url"]: (c["emails"] or [None])[0] for c in COMMUNITIES}


def write_communities(folder: Path, rows: list[dict] | None = None) -> Path:
    path = folder / "communities.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (rows or COMMUNITIES)) + "\n", encoding="utf-8")
    return path


def day_d() -> datetime:
    """Two days from today at 09:00 UTC."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today + timedelta(days=2)


def iso(when: datetime) -> str:
    return when.isoformat()


def reply(*, sender: str, in_reply_to: str | None = None, subject: str = "Re: Hello", body: str = "Sounds good!",
          to: str = FROM_ADDR, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {format_datetime(datetime.now(UTC))}",
             f"Message-ID: {make_msgid(domain='reader.example')}"]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def dsn(*, recipient: str, original_id: str | None = None, action: str = "failed", status: str = "5.1.1") -> bytes:
    """A delivery-status notification (RFC 3464) as a mail server sends it back."""
    original = [f"From: {FROM_ADDR}", f"To: {recipient}", "Subject: Hello"]
    if original_id:
        original.append(f"Message-ID: {original_id}")
    return "\r\n".join([
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>",
        f"To: {FROM_ADDR}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: {make_msgid(domain='mx.example')}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"',
        "",
        "--BOUNDARY",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"I'm sorry to have to inform you that your message could not be delivered to {recipient}.",
        "",
        "--BOUNDARY",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example",
        "",
        f"Final-Recipient: rfc822; {recipient}",
        f"Original-Recipient: rfc822; {recipient}",
        f"Action: {action}",
        f"Status: {status}",
        "Diagnostic-Code: smtp; 550 5.1.1 <" + recipient + ">: Recipient address rejected: User unknown",
        "",
        "--BOUNDARY",
        "Content-Type: text/rfc822-headers",
        "",
        *original,
        "",
        "--BOUNDARY--",
        "",
    ]).encode()


def free_port_url() -> str:
    """An SMTP URL (with a password) pointing at a loopback port nobody listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}"
