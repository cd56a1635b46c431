"""The seams to the mail servers: `Transport` sends one message, `Mailbox` lists and fetches messages.

`SmtpTransport` and `ImapMailbox` speak to real servers with the standard library (`smtplib`, `imaplib`); tests and
other callers may pass any object with the same methods to `send_due` / `sync_inbox`.

Sending errors are sorted into three kinds, because each is handled differently:
- `ServerUnavailable`: the server cannot be reached or refuses us (connection, TLS, login, the sender refused):
  the run stops, the message stays due, nothing is lost;
- `SendFailure(permanent=False)`: a 4xx answer for this message: tried again later with back-off;
- `SendFailure(permanent=True)`: a 5xx answer; `recipient=True` when the recipient was refused (the address is
  marked bounced).
"""

from __future__ import annotations

import imaplib
import re
import smtplib
import ssl
from datetime import date
from email.message import EmailMessage
from typing import Protocol

from recruiter.core.errors import RecruiterError
from recruiter.outreach.mail.settings import ServerUrl

TIMEOUT = 30.0
# A message bigger than this is read by its headers only (a reply is matched by them; a DSN is small).
MAX_FETCH_BYTES = 2_000_000


class ServerUnavailable(RecruiterError, ConnectionError):
    """The mail server cannot be reached or refused the session; the message names the server, not the password."""


class SendFailure(Exception):
    def __init__(self, message: str, *, permanent: bool, recipient: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.recipient = recipient
        self.code = code


class Transport(Protocol):
    def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None: ...

    def close(self) -> None: ...


class Mailbox(Protocol):
    name: str  # identifies the mailbox across runs (no password in it)

    def uidvalidity(self) -> int: ...

    def uids(self, *, after_uid: int, since: date | None) -> list[int]: ...

    def fetch(self, uid: int) -> bytes | None: ...

    def close(self) -> None: ...


def _reply_text(reply: bytes | str | None) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply or "")
    return " ".join(text.split())[:300]


class SmtpTransport:
    """One SMTP session, opened on the first message and reused; reconnects once when the server hung up."""

    def __init__(self, settings: ServerUrl, *, timeout: float = TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = s.redacted()
        try:
            context = ssl.create_default_context()
            if s.ssl:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerUnavailable(f"{where}: login refused ({exc.smtp_code} {_reply_text(exc.smtp_error)})") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ServerUnavailable(f"{where}: {exc}") from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise ServerUnavailable(f"{where}: cannot connect ({exc.__class__.__name__}: {exc})") from None
        return smtp

    def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
                return
            except smtplib.SMTPServerDisconnected:
                self._smtp = None
                if attempt == 2:
                    raise SendFailure("the server hung up while sending", permanent=False) from None
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()), (0, b""))
                raise SendFailure(f"recipient refused: {code} {_reply_text(reply)}", permanent=code >= 500,
                                  recipient=True, code=code) from None
            except smtplib.SMTPSenderRefused as exc:
                self.close()
                raise ServerUnavailable(f"{self.settings.redacted()}: sender {sender} refused "
                                        f"({exc.smtp_code} {_reply_text(exc.smtp_error)})") from None
            except smtplib.SMTPDataError as exc:
                raise SendFailure(f"message refused: {exc.smtp_code} {_reply_text(exc.smtp_error)}",
                                  permanent=exc.smtp_code >= 500, code=exc.smtp_code) from None
            except smtplib.SMTPResponseException as exc:
                self.close()
                raise SendFailure(f"{exc.smtp_code} {_reply_text(exc.smtp_error)}", permanent=False,
                                  code=exc.smtp_code) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise SendFailure(f"{exc.__class__.__name__}: {exc}", permanent=False) from None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                try:
                    smtp.close()
                except OSError:
                    pass


def _quote_mailbox(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    """One mailbox, opened read-only: syncing never changes flags (messages are fetched with BODY.PEEK)."""

    def __init__(self, settings: ServerUrl, *, timeout: float = TIMEOUT) -> None:
        self.settings = settings
        self.name = f"{settings.user}@{settings.host}:{settings.port}/{settings.mailbox}"
        where = settings.redacted()
        try:
            context = ssl.create_default_context()
            if settings.ssl:
                imap = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=timeout)
            else:
                imap = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
                if settings.starttls:
                    imap.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ServerUnavailable(f"{where}: cannot connect ({exc.__class__.__name__}: {exc})") from None
        self._imap = imap
        try:
            imap.login(settings.user, settings.password)
        except imaplib.IMAP4.error as exc:
            self.close()
            raise ServerUnavailable(f"{where}: login refused ({_reply_text(str(exc))})") from None
        except OSError as exc:
            self.close()
            raise ServerUnavailable(f"{where}: {exc}") from None
        try:
            typ, data = imap.select(_quote_mailbox(settings.mailbox), readonly=True)
        except (OSError, imaplib.IMAP4.error) as exc:
            typ, data = "NO", [str(exc).encode()]
        if typ != "OK":
            self.close()
            raise ServerUnavailable(f"{where}: cannot open mailbox {settings.mailbox!r} ({_reply_text(data[0])})")
        _typ, validity = imap.response("UIDVALIDITY")
        try:
            self._uidvalidity = int(validity[0])
        except (TypeError, ValueError, IndexError):
            self._uidvalidity = 0

    def uidvalidity(self) -> int:
        return self._uidvalidity

    def _uid(self, *args: str):
        """One UID command; a dropped connection or a protocol error ends the sync as `ServerUnavailable`."""
        try:
            return self._imap.uid(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ServerUnavailable(f"{self.settings.redacted()}: {exc.__class__.__name__}: {exc}") from None

    def uids(self, *, after_uid: int, since: date | None) -> list[int]:
        criteria = ["UID", f"{after_uid + 1}:*"]
        if since is not None:
            criteria += ["SINCE", since.strftime("%d-%b-%Y")]
        typ, data = self._uid("SEARCH", *criteria)
        if typ != "OK":
            raise ServerUnavailable(f"{self.settings.redacted()}: search failed ({_reply_text(data[0])})")
        found = [int(x) for x in (data[0] or b"").split() if x.isdigit()]
        # `n:*` always matches the newest message, even when its UID is below n.
        return sorted(uid for uid in found if uid > after_uid)

    def fetch(self, uid: int) -> bytes | None:
        typ, data = self._uid("FETCH", str(uid), "(RFC822.SIZE)")
        size = 0
        if typ == "OK" and data and data[0]:
            match = re.search(rb"RFC822\.SIZE (\d+)", data[0] if isinstance(data[0], bytes) else data[0][0])
            size = int(match.group(1)) if match else 0
        part = "BODY.PEEK[HEADER]" if size > MAX_FETCH_BYTES else "BODY.PEEK[]"
        typ, data = self._uid("FETCH", str(uid), f"({part})")
        if typ != "OK":
            return None
        for item in data or []:
            if isinstance(item, tuple) and len(item) >= 2:
                return item[1]
        return None  # expunged meanwhile

    def close(self) -> None:
        imap, self._imap = getattr(self, "_imap", None), None
        if imap is None:
            return
        try:
            if imap.state == "SELECTED":
                imap.close()
        except (OSError, imaplib.IMAP4.error):
            pass
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
