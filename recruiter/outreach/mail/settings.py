"""Where mail goes out and comes in: the server URLs, the sender, the sending window.

`RECRUITER_SMTP_URL` = `smtp://user:pass@host:port` (`smtps://` for TLS from the start, `?starttls=1` to upgrade a
plain connection), `RECRUITER_IMAP_URL` = `imap://user:pass@host:port/INBOX` (`imaps://`, `?starttls=1`),
`RECRUITER_FROM` = `Name <you@shop.example>`. User names and passwords may be percent-encoded (`%40` for `@`).
A password is never part of anything printed: `ServerUrl.redacted()` is the only way a URL is shown.

Optional: `RECRUITER_UNSUBSCRIBE_URL` (an https page of yours with `{token}` in it, offered beside the mailto
unsubscribe), `RECRUITER_SEND_WINDOW` (`09:00-17:00`), `RECRUITER_TIMEZONE` (`Europe/Berlin`, default UTC),
`RECRUITER_MAX_PER_DAY` (default 50).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, time
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recruiter.core.errors import InvalidValue, RecruiterError
from recruiter.outreach.sequences import usable_email

DEFAULT_MAX_PER_DAY = 50
DEFAULT_PORTS = {("smtp", False): 25, ("smtp", True): 587, ("smtps", False): 465,
                 ("imap", False): 143, ("imap", True): 143, ("imaps", False): 993}


class MailConfigError(RecruiterError, ValueError):
    """Mail is not set up (or set up wrongly): the message says which variable to set, never a password."""


@dataclass(frozen=True)
class ServerUrl:
    scheme: str  # smtp, smtps, imap, imaps
    host: str
    port: int
    user: str
    password: str
    starttls: bool
    mailbox: str = "INBOX"

    @property
    def ssl(self) -> bool:
        return self.scheme.endswith("s")

    def redacted(self) -> str:
        who = f"{self.user}:***@" if self.user else ""
        path = f"/{self.mailbox}" if self.scheme.startswith("imap") else ""
        return f"{self.scheme}://{who}{self.host}:{self.port}{path}" + ("?starttls=1" if self.starttls else "")

    def __repr__(self) -> str:  # a stray print or log of the object shows no password either
        return f"ServerUrl({self.redacted()})"


def parse_server_url(url: str, *, kind: str, variable: str) -> ServerUrl:
    """Read an smtp(s):// or imap(s):// URL; errors name the variable and never echo the URL's password."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise MailConfigError(f"{variable} is not a valid {kind}:// URL") from None
    scheme = parts.scheme.lower()
    if scheme not in (kind, kind + "s"):
        raise MailConfigError(f"{variable} must start with {kind}:// or {kind}s://, not {scheme or '(nothing)'}://")
    if not parts.hostname:
        raise MailConfigError(f"{variable} has no host ({kind}://user:pass@host:port)")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise MailConfigError(f"{variable}: unknown option {unknown[0]!r} (only ?starttls=1)")
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes", "on")
    if starttls and scheme.endswith("s"):
        raise MailConfigError(f"{variable}: {scheme}:// is TLS already; ?starttls=1 is for {kind}://")
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    if any(ch in mailbox for ch in "\r\n\0"):
        raise MailConfigError(f"{variable}: the mailbox name holds a line break")
    return ServerUrl(scheme=scheme, host=parts.hostname, port=port or DEFAULT_PORTS[(scheme, starttls)],
                     user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                     starttls=starttls, mailbox=mailbox)


def smtp_settings(url: str | None = None) -> ServerUrl:
    url = url or os.environ.get("RECRUITER_SMTP_URL")
    if not url:
        raise MailConfigError("set RECRUITER_SMTP_URL (smtp://user:pass@host:port, smtps://..., ?starttls=1) "
                              "to send, or use --dry-run")
    return parse_server_url(url, kind="smtp", variable="RECRUITER_SMTP_URL")


def imap_settings(url: str | None = None) -> ServerUrl:
    url = url or os.environ.get("RECRUITER_IMAP_URL")
    if not url:
        raise MailConfigError("set RECRUITER_IMAP_URL (imap://user:pass@host:port/INBOX or imaps://...) to read "
                              "replies and bounces")
    return parse_server_url(url, kind="imap", variable="RECRUITER_IMAP_URL")


def sender(value: str | None = None, *, required: bool = True) -> Address | None:
    """The From of every message: `RECRUITER_FROM` as `Name <addr>` or a bare address."""
    text = value if value is not None else os.environ.get("RECRUITER_FROM", "")
    if not text.strip():
        if required:
            raise MailConfigError("set RECRUITER_FROM (e.g. \"Ana from Shop <ana@shop.example>\") to send")
        return None
    if any(ch in text for ch in "\r\n"):
        raise MailConfigError("RECRUITER_FROM holds a line break")
    name, addr = parseaddr(text)
    if not addr or usable_email(addr) != addr:
        raise MailConfigError(f"RECRUITER_FROM: {text.strip()!r} is not an email address")
    local, _, domain = addr.rpartition("@")
    return Address(display_name=name.strip(), username=local, domain=domain)


def unsubscribe_url(token: str, template: str | None = None) -> str | None:
    """The https unsubscribe link of one enrollment, when `RECRUITER_UNSUBSCRIBE_URL` is set."""
    template = template if template is not None else os.environ.get("RECRUITER_UNSUBSCRIBE_URL", "")
    if not template.strip():
        return None
    if not template.startswith("https://") or "{token}" not in template:
        raise MailConfigError("RECRUITER_UNSUBSCRIBE_URL must be an https:// URL holding {token}")
    return template.replace("{token}", token)


def max_per_day(value: int | None = None) -> int:
    if value is None:
        raw = os.environ.get("RECRUITER_MAX_PER_DAY", "")
        try:
            value = int(raw) if raw.strip() else DEFAULT_MAX_PER_DAY
        except ValueError:
            raise MailConfigError(f"RECRUITER_MAX_PER_DAY: {raw!r} is not a number") from None
    if value < 0:
        raise InvalidValue("the daily cap cannot be negative")
    return value


def timezone(name: str | None = None) -> ZoneInfo:
    name = name or os.environ.get("RECRUITER_TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"unknown time zone {name!r} (e.g. UTC, Europe/Berlin, America/New_York)") from None


@dataclass(frozen=True)
class Window:
    """Hours of the day (in a time zone) when messages may go out; `start > end` spans midnight."""

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, when: datetime) -> bool:
        local = when.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"


def window(text: str | None = None, zone: str | None = None) -> Window | None:
    """`09:00-17:00` (or `RECRUITER_SEND_WINDOW`) in the configured time zone; None means always."""
    text = text if text is not None else os.environ.get("RECRUITER_SEND_WINDOW", "")
    if not text.strip() or text.strip().lower() == "always":
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise InvalidValue(f"sending window {text!r} is not HH:MM-HH:MM (e.g. 09:00-17:00)") from None
    if start == end:
        raise InvalidValue(f"sending window {text!r} is empty")
    return Window(start, end, timezone(zone))
