"""`sync_inbox`: read the mailbox once, and let what arrived stop the sequences it concerns.

- a reply (matched by In-Reply-To / References to a Message-ID we sent, else by the sender's address) stops the
  enrollment and moves the prospect to `replied`;
- a delivery-status notification (multipart/report; report-type=delivery-status) with `Action: failed` marks its
  Final-Recipient bounced (never written to again) and stops the enrollment (matched by the original Message-ID
  when the report carries it, else by the address); a `delayed` report changes nothing;
- a message to the List-Unsubscribe mailto (subject `unsubscribe <token>`), or a reply asking to be removed (in its
  own words: quoted text is ignored, so our own unsubscribe line quoted back is not a request), marks the address
  opted out and the prospect declined;
- an automatic answer (out of office, Auto-Submitted) is noted on the timeline and the sequence goes on.

Each message is read once: the mailbox is opened read-only (flags are never touched), a high-water UID per
UIDVALIDITY skips what was seen, and every message acted on is a row (unique by UIDVALIDITY+UID, and checked by
Message-ID), written in the same transaction as its outcome, so two syncs at once or a sync re-run change nothing.

A sync needs OUTREACH; the stage moves it makes are recorded in the audit log under its actor.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr
from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from recruiter.accounts.roles import OUTREACH, Actor, require
from recruiter.core.db import get_setting, set_setting
from recruiter.core.models import Community, Enrollment, InboundMessage, OutboundMessage, Prospect, as_utc, utcnow
from recruiter.outreach.mail import settings
from recruiter.outreach.mail.compose import UNSUBSCRIBE_SUBJECT
from recruiter.outreach.mail.transport import ImapMailbox, Mailbox
from recruiter.outreach.pipeline import apply_stage, log_activity
from recruiter.outreach.sequences import end_enrollment, suppress

SYNC_STATE_KEY = "mail_sync_state"
MSGID_RE = re.compile(r"<[^<>\s]{1,250}>")
TOKEN_RE = re.compile(rf"\b{UNSUBSCRIBE_SUBJECT}\s+([0-9a-f]{{24}})\b", re.IGNORECASE)
ASKS_OUT_RE = re.compile(
    r"\b(unsubscribe|opt[ -]?out|remove me|take me off|stop (?:e-?mailing|sending|contacting|writing)"
    r"|do not (?:e-?mail|contact|write)|don'?t (?:e-?mail|contact|write) (?:me|us)|no more e-?mails)\b",
    re.IGNORECASE)
AUTO_SUBJECT_RE = re.compile(r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|"
                             r"absence|away from)", re.IGNORECASE)
QUOTE_START_RE = re.compile(r"^(on .{0,200} wrote:|-{2,} ?original message ?-{2,}|_{10,}|from: .+|"
                            r"le .{0,200} a écrit ?:|am .{0,200} schrieb .{0,200}:)\s*$", re.IGNORECASE)
REPLY_STAGES = ("discovered", "shortlisted", "contacted")


@dataclass
class SyncOutcome:
    kind: str  # reply, bounce, opt-out, auto-reply
    url: str
    email: str
    detail: str
    uid: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyncReport:
    mailbox: str
    examined: int = 0
    outcomes: list[SyncOutcome] = field(default_factory=list)
    already_read: int = 0
    unreadable: int = 0
    note: str = ""

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)

    def summary(self) -> str:
        if self.note:
            return self.note
        parts = [f"{self.examined} new message(s) read"]
        for kind, label in (("reply", "replies"), ("bounce", "bounces"), ("opt-out", "opt-outs"),
                            ("auto-reply", "automatic answers")):
            parts.append(f"{self.count(kind)} {label}")
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"mailbox": self.mailbox, "examined": self.examined, "outcomes": [o.to_dict() for o in self.outcomes],
                "already_read": self.already_read, "unreadable": self.unreadable, "summary": self.summary()}


# --- reading one message ------------------------------------------------------------------------------------

@dataclass
class Failed:
    recipient: str
    status: str
    diagnostic: str


@dataclass
class Inbound:
    message_id: str | None
    from_addr: str
    subject: str
    references: list[str]
    bounces: list[Failed]
    dsn: bool
    original_id: str | None
    token: str | None
    asks_out: bool
    automatic: bool


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header: read as absent, the rest of the message still counts
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _ids(text: str) -> list[str]:
    return MSGID_RE.findall(text or "")


def _own_words(message: EmailMessage) -> str:
    """The start of what the sender wrote: plain text (or HTML as text), without the quoted conversation."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        text = part.get_content() if part is not None else ""
        if part is not None and part.get_content_type() == "text/html":
            text = BeautifulSoup(text, "html.parser").get_text("\n")
    except Exception:
        return ""
    lines = []
    for line in str(text).splitlines()[:400]:
        stripped = line.strip()
        if QUOTE_START_RE.match(stripped):
            break
        if not stripped.startswith(">"):
            lines.append(stripped)
    return "\n".join(lines)[:3000]


def _delivery_status(message: Message) -> tuple[list[Failed], str | None]:
    failed: list[Failed] = []
    original: str | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
                action = _header(block, "Action").lower()
                if not recipient or action != "failed":
                    continue
                address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
                failed.append(Failed(address, _header(block, "Status"), _header(block, "Diagnostic-Code")[:300]))
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                found = _ids(_header(payload[0], "Message-ID"))
            else:
                text = part.get_payload(decode=True) or b""
                headers = BytesParser(policy=policy.default).parsebytes(text, headersonly=True)
                found = _ids(_header(headers, "Message-ID"))
            original = found[0] if found else None
    return failed, original


def read_message(raw: bytes) -> Inbound:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    subject = _header(message, "Subject")[:500]
    ids = _ids(_header(message, "Message-ID"))
    dsn = (message.get_content_type() == "multipart/report"
           and str(message.get_param("report-type", "")).lower() == "delivery-status")
    failed, original = _delivery_status(message) if dsn else ([], None)
    auto = _header(message, "Auto-Submitted").lower()
    automatic = (bool(auto) and auto != "no") or bool(_header(message, "X-Autoreply")) \
        or bool(_header(message, "X-Autorespond")) or _header(message, "Precedence").lower() == "auto_reply" \
        or bool(AUTO_SUBJECT_RE.match(subject))
    token = TOKEN_RE.search(subject)
    own = "" if dsn else _own_words(message)
    return Inbound(
        message_id=ids[0] if ids else None,
        from_addr=parseaddr(_header(message, "From"))[1].strip().lower(),
        subject=subject,
        references=_ids(_header(message, "In-Reply-To")) + _ids(_header(message, "References")),
        bounces=failed, dsn=dsn, original_id=original,
        token=token.group(1).lower() if token else None,
        asks_out=bool(ASKS_OUT_RE.search(subject) or ASKS_OUT_RE.search(own)),
        automatic=automatic and not dsn,
    )


# --- the sync -------------------------------------------------------------------------------------------------

def sync_inbox(*, actor: Actor, session: Session, now: datetime | None = None, mailbox: Mailbox | None = None,
               imap_url: str | None = None, from_addr: str | None = None) -> SyncReport:
    """Read the new messages of the mailbox (`RECRUITER_IMAP_URL`, or `mailbox`) and act on those that concern
    an enrollment. Activities are dated `now` (default: the clock). Needs OUTREACH."""
    actor = require(actor, OUTREACH, session=session)
    now = as_utc(now) if now else utcnow()
    ours = settings.sender(from_addr, required=False)
    own_transport = None
    if mailbox is None:
        own_transport = mailbox = ImapMailbox(settings.imap_settings(imap_url))
    try:
        return _sync(mailbox, actor=actor, session=session, now=now, ours=ours.addr_spec.lower() if ours else "")
    finally:
        if own_transport is not None:
            own_transport.close()


def _sync(mailbox: Mailbox, *, actor: Actor, session: Session, now: datetime, ours: str) -> SyncReport:
    report = SyncReport(mailbox=mailbox.name)
    first_send = session.exec(select(func.min(OutboundMessage.claimed_at))
                              .where(OutboundMessage.state.in_(("sent", "failed")))).one()
    if first_send is None:
        report.note = "nothing sent yet: no replies to look for"
        return report
    validity = mailbox.uidvalidity()
    state = dict(get_setting(SYNC_STATE_KEY, {}, session=session) or {})
    mark = state.get(mailbox.name) or {}
    after = int(mark.get("uid", 0)) if int(mark.get("uidvalidity", -1)) == validity else 0
    # Replies cannot predate our first message: an old, large mailbox is not read from the start.
    since = (as_utc(first_send) - timedelta(days=2)).date()
    last = after
    try:
        for uid in mailbox.uids(after_uid=after, since=since):
            raw = mailbox.fetch(uid)
            if raw is not None:
                report.examined += 1
                try:
                    inbound = read_message(raw)
                except Exception:  # hostile or broken MIME: skipped, never a crash of the whole sync
                    report.unreadable += 1
                else:
                    _act(inbound, uid=uid, validity=validity, mailbox=mailbox.name, report=report,
                         actor=actor, session=session, now=now, ours=ours)
            last = max(last, uid)  # only once acted on: a crash above reads this message again next time
    finally:
        if last > after:
            session.rollback()
            state = dict(get_setting(SYNC_STATE_KEY, {}, session=session) or {})
            previous = state.get(mailbox.name) or {}
            if int(previous.get("uidvalidity", -1)) == validity:
                last = max(last, int(previous.get("uid", 0)))
            state[mailbox.name] = {"uidvalidity": validity, "uid": last}
            set_setting(SYNC_STATE_KEY, state, session=session)
    return report


def _enrollment_by_reference(ids: list[str], *, session: Session) -> Enrollment | None:
    if not ids:
        return None
    row = session.exec(select(Enrollment).join(OutboundMessage, OutboundMessage.enrollment_id == Enrollment.id)
                       .where(OutboundMessage.message_id.in_(ids[:50]))
                       .order_by(Enrollment.enrolled_at.desc())).first()
    return row


def _enrollments_by_address(address: str, *, session: Session) -> list[Enrollment]:
    if not address:
        return []
    return list(session.exec(select(Enrollment).where(func.lower(Enrollment.email) == address.lower())
                             .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())).all())


def _act(inbound: Inbound, *, uid: int, validity: int, mailbox: str, report: SyncReport, actor: Actor,
         session: Session, now: datetime, ours: str) -> None:
    if inbound.message_id and session.exec(select(OutboundMessage.id).where(
            OutboundMessage.message_id == inbound.message_id)).first() is not None:
        return  # a copy of a message we sent
    if inbound.dsn:
        targets: list[tuple[Enrollment, Failed]] = []
        for failed in inbound.bounces:
            original = _enrollment_by_reference([inbound.original_id] if inbound.original_id else [], session=session)
            if original is not None and original.email.lower() == failed.recipient:
                matched = [original]
            else:
                known = _enrollments_by_address(failed.recipient, session=session)
                matched = [e for e in known if e.state in ("active", "finished")] or known[:1]
            targets += [(e, failed) for e in matched]
        if targets:
            _record(inbound, "bounce", targets, uid=uid, validity=validity, mailbox=mailbox, report=report,
                    actor=actor, session=session, now=now)
        return
    if ours and inbound.from_addr == ours and not inbound.token:
        return  # our own message (a copy kept in the inbox)
    enrollment = None
    if inbound.token:
        enrollment = session.exec(select(Enrollment).where(Enrollment.token == inbound.token)).first()
    if enrollment is None:
        enrollment = _enrollment_by_reference(inbound.references, session=session)
    if enrollment is None:
        matches = _enrollments_by_address(inbound.from_addr, session=session)
        enrollment = matches[0] if matches else None
    if enrollment is None:
        return
    if inbound.token or inbound.asks_out:
        kind = "opt-out"
    elif inbound.automatic:
        kind = "auto-reply"
    else:
        kind = "reply"
    _record(inbound, kind, [(enrollment, None)], uid=uid, validity=validity, mailbox=mailbox, report=report,
            actor=actor, session=session, now=now)


def _record(inbound: Inbound, kind: str, targets: list[tuple[Enrollment, Failed | None]], *, uid: int,
            validity: int, mailbox: str, report: SyncReport, actor: Actor, session: Session,
            now: datetime) -> None:
    """Apply one message's outcome, in one transaction with the row that says it was read."""
    if inbound.message_id and session.exec(select(InboundMessage.id).where(
            InboundMessage.message_id == inbound.message_id)).first() is not None:
        report.already_read += 1
        return
    session.add(InboundMessage(mailbox=mailbox[:300], uidvalidity=validity, uid=uid, message_id=inbound.message_id,
                               kind=kind, enrollment_id=targets[0][0].id, from_addr=inbound.from_addr[:320],
                               subject=inbound.subject[:500], processed_at=now))
    try:
        session.flush()  # a sync running at the same time stops here: the message is theirs
    except IntegrityError:
        session.rollback()
        report.already_read += 1
        return
    move: tuple[Community, str] | None = None
    for enrollment, failed in targets:
        prospect = session.get(Prospect, enrollment.prospect_id)
        community = session.get(Community, enrollment.community_id)
        detail = _apply(kind, inbound, enrollment, prospect, failed, session=session, now=now)
        report.outcomes.append(SyncOutcome(kind=kind, url=community.url, email=enrollment.email, detail=detail,
                                           uid=uid))
        if kind == "reply" and prospect.stage in REPLY_STAGES:
            move = (community, "replied")
        elif kind == "opt-out" and prospect.stage in (*REPLY_STAGES, "replied"):
            move = (community, "declined")
    if move is not None:
        apply_stage(move[0], move[1], actor=actor, session=session, at=now)  # commits the whole outcome
    else:
        session.commit()


def _apply(kind: str, inbound: Inbound, enrollment: Enrollment, prospect: Prospect, failed: Failed | None, *,
           session: Session, now: datetime) -> str:
    data = {"message_id": inbound.message_id, "from": inbound.from_addr, "sequence": enrollment.sequence_name}
    if kind == "bounce":
        detail = f"{failed.recipient} bounced: {failed.status} {failed.diagnostic}".strip()
        suppress(failed.recipient, "bounced", detail, session=session, at=now)
        end_enrollment(enrollment, "bounced", detail, session=session, at=now)
        log_activity(prospect, "bounced", detail, session=session, at=now, data=data, commit=False)
        return detail
    if kind == "opt-out":
        detail = f"{inbound.from_addr or enrollment.email} asked not to be emailed again ({inbound.subject})"
        suppress(enrollment.email, "opted-out", detail, session=session, at=now)
        if inbound.from_addr and inbound.from_addr != enrollment.email.lower():
            suppress(inbound.from_addr, "opted-out", detail, session=session, at=now)
        if not end_enrollment(enrollment, "opted-out", detail, session=session, at=now) \
                and enrollment.state == "replied":
            enrollment.state, enrollment.end_reason = "opted-out", detail[:500]
            session.add(enrollment)
        log_activity(prospect, "opted_out", detail, session=session, at=now, data=data, commit=False)
        return detail
    if kind == "auto-reply":
        detail = f"automatic answer from {inbound.from_addr}: {inbound.subject}"
        log_activity(prospect, "auto_reply", detail, session=session, at=now, data=data, commit=False)
        return detail
    detail = f"reply from {inbound.from_addr}: {inbound.subject}"
    end_enrollment(enrollment, "replied", detail, session=session, at=now)
    log_activity(prospect, "reply", detail, session=session, at=now, data=data, commit=False)
    return detail
