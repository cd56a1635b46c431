"""`send_due`: send every sequence step due at a moment, once, within the daily cap and the sending window.

What makes it safe to run from cron every few minutes, twice at once, or after a crash:
- each message is claimed in the database with one atomic `UPDATE ... WHERE state = 'due'` (the daily cap is part
  of the same statement) and committed before the SMTP server hears of it: of two overlapping runs, one sends;
- the checks are made again on the claimed row: a first message never goes to a community contacted before (by
  hand, or through another sequence), a follow-up only while the prospect is still `contacted`, nothing to an
  address that bounced or opted out, and nothing with a placeholder left unfilled (held, reported, sent once fixed);
- a 4xx answer puts the message back, due later with back-off; a 5xx recipient refusal marks the address bounced;
  a server that cannot be reached stops the run and leaves every message due. A claim left by a killed process is
  reported and not retried blindly (it may have gone out): the user checks the Sent folder.

A run needs OUTREACH (a dry run only reads); each email sent is an "email.sent" entry of the audit log, committed
with the message's new state.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import OUTREACH, Actor, require
from recruiter.core.db import lock_for_transaction
from recruiter.core.models import (
    CONTACTED_STAGES,
    Community,
    Enrollment,
    OutboundMessage,
    Profile,
    Prospect,
    SequenceStep,
    as_utc,
    utcnow,
)
from recruiter.outreach.mail import settings
from recruiter.outreach.mail.compose import build_message, fill_step, new_message_id, unsubscribe_line
from recruiter.outreach.mail.transport import SendFailure, ServerUnavailable, SmtpTransport, Transport
from recruiter.outreach.pipeline import apply_stage, contacted_before, log_activity
from recruiter.outreach.sequences import end_enrollment, suppress, suppression

MAX_ATTEMPTS = 6
STALE_CLAIM = timedelta(minutes=15)
DRY_RUN_SENDER = Address(display_name="", username="you", domain="example.invalid")


def backoff(attempts: int) -> timedelta:
    """15 min, 1 h, 4 h, 16 h, then daily."""
    return min(timedelta(minutes=15) * (4 ** max(0, attempts - 1)), timedelta(days=1))


@dataclass
class SendOutcome:
    url: str
    email: str
    sequence: str
    step: int
    subject: str
    result: str  # sent, would-send, retry, failed, bounced, held, stopped, interrupted
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SendReport:
    now: datetime
    dry_run: bool = False
    outcomes: list[SendOutcome] = field(default_factory=list)
    capped: int = 0
    cap: int = 0
    window_closed: str | None = None
    stopped: str | None = None  # the server could not be used: the run ended early

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def problems(self) -> bool:
        return bool(self.stopped) or any(o.result in ("retry", "failed", "held", "interrupted")
                                         for o in self.outcomes)

    def summary(self) -> str:
        if self.window_closed:
            return f"nothing sent: {self.window_closed}"
        parts = [f"{self.count('would-send')} would be sent (dry run)" if self.dry_run
                 else f"{self.count('sent')} sent"]
        for result, label in (("retry", "to retry"), ("failed", "failed"), ("bounced", "bounced"),
                              ("held", "held (unfilled placeholders)"), ("stopped", "stopped"),
                              ("interrupted", "interrupted earlier")):
            if self.count(result):
                parts.append(f"{self.count(result)} {label}")
        if self.capped:
            parts.append(f"{self.capped} left for tomorrow (daily cap {self.cap})")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(timespec="seconds"), "dry_run": self.dry_run,
                "outcomes": [o.to_dict() for o in self.outcomes], "capped": self.capped,
                "window_closed": self.window_closed, "stopped": self.stopped, "summary": self.summary()}


@dataclass
class _Plan:
    action: str  # send, stop, held
    end_state: str = ""
    reason: str = ""
    subject: str = ""
    body: str = ""


@dataclass
class _Context:
    message: OutboundMessage
    enrollment: Enrollment
    community: Community
    prospect: Prospect
    step: SequenceStep | None
    total: int

    def outcome(self, result: str, detail: str = "", subject: str | None = None) -> SendOutcome:
        return SendOutcome(url=self.community.url, email=self.message.to_addr, sequence=self.enrollment.sequence_name,
                           step=self.message.position,
                           subject=subject if subject is not None else (self.step.subject if self.step else ""),
                           result=result, detail=detail)


def send_due(*, actor: Actor, session: Session, now: datetime | None = None, dry_run: bool = False,
             max_per_day: int | None = None, window: str | None = None, timezone: str | None = None,
             transport: Transport | None = None, smtp_url: str | None = None,
             from_addr: str | None = None) -> SendReport:
    """Send every step due at `now` (default: the clock). `window`/`timezone`/`max_per_day` default to
    `RECRUITER_SEND_WINDOW`/`RECRUITER_TIMEZONE`/`RECRUITER_MAX_PER_DAY`; `transport` replaces SMTP.
    Needs OUTREACH unless `dry_run`."""
    if not dry_run:
        actor = require(actor, OUTREACH, session=session)
    now = as_utc(now) if now else utcnow()
    cap = settings.max_per_day(max_per_day)
    zone = settings.timezone(timezone)
    hours = settings.window(window, timezone)
    sender = settings.sender(from_addr, required=not dry_run) or DRY_RUN_SENDER
    settings.unsubscribe_url("check")  # a malformed RECRUITER_UNSUBSCRIBE_URL stops the run before any claim
    own_transport = None
    if not dry_run and transport is None:
        own_transport = transport = SmtpTransport(settings.smtp_settings(smtp_url))
    report = SendReport(now=now, dry_run=dry_run, cap=cap)
    if not dry_run:
        _reap_stale_claims(session=session, report=report)
    if hours is not None and not hours.contains(now):
        report.window_closed = f"{now.astimezone(hours.zone):%H:%M} is outside the sending window ({hours})"
        return report
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)  # the cap's day is local
    day_start, day_end = midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC)
    due = list(session.exec(
        select(OutboundMessage.id).join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .where(OutboundMessage.state == "due", OutboundMessage.due_at <= now, Enrollment.state == "active")
        .order_by(OutboundMessage.due_at, OutboundMessage.id)).all())
    budget = cap - _sent_in(day_start, day_end, session=session) if dry_run else cap
    try:
        for index, message_id in enumerate(due):
            if dry_run:
                if budget <= 0:
                    report.capped = len(due) - index
                    break
                outcome = _preview(message_id, session=session, sender=sender)
                budget -= outcome.result == "would-send"
                report.outcomes.append(outcome)
                continue
            claim = _claim(message_id, cap=cap, day_start=day_start, day_end=day_end, session=session)
            if claim is None:
                if _sent_in(day_start, day_end, session=session, in_flight=True) >= cap:
                    report.capped = len(due) - index
                    break
                continue  # another run has it
            try:
                report.outcomes.append(_send_claimed(message_id, claim, actor=actor, session=session, sender=sender,
                                                     now=now, transport=transport))
            except ServerUnavailable as exc:
                _release(message_id, claim, session=session)
                report.stopped = str(exc)
                break
    finally:
        if own_transport is not None:
            own_transport.close()
    return report


# --- claims -----------------------------------------------------------------------------------------------

def _sent_in(start: datetime, end: datetime, *, session: Session, in_flight: bool = False) -> int:
    table = OutboundMessage.__table__
    sent = and_(table.c.state == "sent", table.c.sent_at >= start, table.c.sent_at < end)
    condition = or_(sent, table.c.state == "claimed") if in_flight else sent
    return int(session.exec(select(func.count()).select_from(table).where(condition)).one())


def _claim(message_id: int, *, cap: int, day_start: datetime, day_end: datetime, session: Session) -> str | None:
    """Take a due message for this run, atomically, unless the day's cap is reached. None: not ours to send."""
    table = OutboundMessage.__table__
    other = table.alias("counted")
    used = (select(func.count()).select_from(other)
            .where(or_(and_(other.c.state == "sent", other.c.sent_at >= day_start, other.c.sent_at < day_end),
                       other.c.state == "claimed"))
            .scalar_subquery())
    claim = uuid.uuid4().hex
    lock_for_transaction("outreach-send-cap", session=session)  # PostgreSQL: two runs never both take the last slot
    result = session.exec(update(table).where(table.c.id == message_id, table.c.state == "due", used < cap)
                          .values(state="claimed", claim_id=claim, claimed_at=utcnow(),
                                  attempts=table.c.attempts + 1))
    session.commit()
    return claim if result.rowcount == 1 else None


def _release(message_id: int, claim: str, *, session: Session, error: str | None = None) -> None:
    """Hand a claimed message back, due as before (the attempt does not count: the message was not tried)."""
    table = OutboundMessage.__table__
    values: dict[str, Any] = {"state": "due", "claim_id": None, "attempts": table.c.attempts - 1}
    if error is not None:
        values["error"] = error[:1000]
    session.rollback()
    session.exec(update(table).where(table.c.id == message_id, table.c.claim_id == claim).values(**values))
    session.commit()


def _reap_stale_claims(*, session: Session, report: SendReport) -> None:
    """Claims older than STALE_CLAIM belong to a run that died mid-send: the message may have gone out."""
    stale = session.exec(select(OutboundMessage).where(OutboundMessage.state == "claimed",
                                                       OutboundMessage.claimed_at < utcnow() - STALE_CLAIM)).all()
    for message in stale:
        context = _load(message.id, session=session)
        reason = ("interrupted while sending (the sending process stopped): it may or may not have gone out, so it "
                  "is not sent again; check your mailbox's Sent folder")
        message.state, message.error = "failed", reason
        session.add(message)
        end_enrollment(context.enrollment, "stopped", f"step {message.position} {reason}", session=session)
        log_activity(context.prospect, "email_failed", f"step {message.position}: {reason}", session=session,
                     commit=False)
        session.commit()
        report.outcomes.append(context.outcome("interrupted", reason))


# --- one message --------------------------------------------------------------------------------------------

def _load(message_id: int, *, session: Session) -> _Context:
    message = session.get(OutboundMessage, message_id)
    session.refresh(message)
    enrollment = session.get(Enrollment, message.enrollment_id)
    session.refresh(enrollment)
    community = session.get(Community, enrollment.community_id)
    prospect = session.get(Prospect, enrollment.prospect_id)
    session.refresh(prospect)
    steps = list(session.exec(select(SequenceStep).where(SequenceStep.sequence_id == enrollment.sequence_id)
                              .order_by(SequenceStep.position)).all()) if enrollment.sequence_id else []
    step = next((s for s in steps if s.position == message.position), None)
    return _Context(message, enrollment, community, prospect, step, len(steps))


def _plan(context: _Context, *, session: Session, sender: Address) -> _Plan:
    """What to do with a due message, decided on fresh rows: send it (filled), stop its enrollment, or hold it."""
    message, enrollment, prospect = context.message, context.enrollment, context.prospect
    if enrollment.state != "active":
        return _Plan("stop", enrollment.state, f"the enrollment is {enrollment.state}")
    if context.step is None:
        return _Plan("stop", "finished", f"the sequence no longer has step {message.position}")
    blocked = suppression(message.to_addr, session=session)
    if blocked is not None:
        return _Plan("stop", blocked.reason, f"{message.to_addr} {blocked.reason} on {as_utc(blocked.at):%Y-%m-%d}")
    if message.position == 1:
        when = contacted_before(prospect, session=session)
        if when is None and prospect.stage in CONTACTED_STAGES:
            when = prospect.stage_changed_at
        if when is not None:
            return _Plan("stop", "stopped", f"contacted before, on {as_utc(when):%Y-%m-%d}: no double outreach")
        if prospect.stage == "declined":
            return _Plan("stop", "stopped", "the prospect was declined")
    elif prospect.stage != "contacted":
        return _Plan("stop", "stopped", f"the prospect moved on to {prospect.stage}")
    profile = session.get(Profile, enrollment.profile_id) if enrollment.profile_id else None
    line = unsubscribe_line(sender, enrollment.token, settings.unsubscribe_url(enrollment.token))
    subject, body, missing = fill_step(context.step.subject, context.step.body, community=context.community,
                                       profile=profile, session=session, unsubscribe=line)
    if missing:
        return _Plan("held", reason=(f"step {message.position} of {enrollment.sequence_name!r} has no value for "
                                     f"{', '.join(missing)}: fill it (a tracked link, the shop name...) or edit the "
                                     "step; it stays due"), subject=subject)
    return _Plan("send", subject=subject, body=body)


def _preview(message_id: int, *, session: Session, sender: Address) -> SendOutcome:
    context = _load(message_id, session=session)
    plan = _plan(context, session=session, sender=sender)
    session.rollback()
    if plan.action == "send":
        return context.outcome("would-send", subject=plan.subject)
    return context.outcome("stopped" if plan.action == "stop" else "held", plan.reason, subject=plan.subject or None)


def _send_claimed(message_id: int, claim: str, *, actor: Actor, session: Session, sender: Address, now: datetime,
                  transport: Transport) -> SendOutcome:
    context = _load(message_id, session=session)
    message, enrollment = context.message, context.enrollment
    plan = _plan(context, session=session, sender=sender)
    if plan.action == "held":
        _release(message_id, claim, session=session, error=plan.reason)
        return context.outcome("held", plan.reason, subject=plan.subject)
    if plan.action == "stop":
        message.state, message.error = "cancelled", f"not sent: {plan.reason}"[:1000]
        session.add(message)
        end_enrollment(enrollment, plan.end_state, plan.reason, session=session, at=now)
        log_activity(context.prospect, "sequence_stopped", f"{enrollment.sequence_name}: {plan.reason}",
                     session=session, at=now, commit=False)
        session.commit()
        return context.outcome("stopped", plan.reason)
    if message.message_id is None:
        message.message_id = new_message_id(sender)
        session.add(message)
        session.commit()  # stored before the server sees it: a reply can always be matched
    references = [m for m in session.exec(
        select(OutboundMessage.message_id).where(OutboundMessage.enrollment_id == enrollment.id,
                                                 OutboundMessage.state == "sent",
                                                 OutboundMessage.position < message.position)
        .order_by(OutboundMessage.position)).all() if m]
    email = build_message(sender=sender, to=message.to_addr, subject=plan.subject, body=plan.body,
                          message_id=message.message_id, references=references, token=enrollment.token,
                          https_url=settings.unsubscribe_url(enrollment.token), when=utcnow())
    try:
        transport.send(email, sender=sender.addr_spec, recipient=message.to_addr)
    except SendFailure as failure:
        return _failed(context, failure, now=now, session=session, subject=plan.subject)
    return _sent(context, plan, actor=actor, now=now, session=session)


def _sent(context: _Context, plan: _Plan, *, actor: Actor, now: datetime, session: Session) -> SendOutcome:
    message, enrollment, prospect = context.message, context.enrollment, context.prospect
    message.state, message.sent_at, message.error = "sent", now, ""
    message.subject, message.body, message.claim_id = plan.subject, plan.body, None
    enrollment.step = message.position
    enrollment.updated_at = utcnow()
    following = session.exec(select(SequenceStep).where(SequenceStep.sequence_id == enrollment.sequence_id,
                                                        SequenceStep.position == message.position + 1)).first()
    session.add_all([message, enrollment])
    if following is not None:
        enrollment.next_at = now + timedelta(days=following.wait_days)
        session.add(OutboundMessage(enrollment_id=enrollment.id, position=following.position, to_addr=enrollment.email,
                                    base_at=now, due_at=enrollment.next_at))
    else:
        end_enrollment(enrollment, "finished", "all steps sent", session=session, at=now)
    log_activity(prospect, "email", f"{enrollment.sequence_name} step {message.position}/{context.total} to "
                 f"{message.to_addr}: {plan.subject}", session=session, at=now, commit=False,
                 data={"message_id": message.message_id, "sequence": enrollment.sequence_name,
                       "step": message.position, "to": message.to_addr})
    audit.record(actor, "email.sent", context.community.url,
                 {"to": message.to_addr, "sequence": enrollment.sequence_name, "step": message.position,
                  "subject": plan.subject}, session=session)
    session.refresh(prospect)
    if message.position == 1 and prospect.stage in ("discovered", "shortlisted"):
        # Checked in _plan just before sending; forced so a move made meanwhile cannot undo what was sent.
        apply_stage(context.community, "contacted", actor=actor, session=session, at=now, force=True)
    else:
        session.commit()
    return context.outcome("sent", subject=plan.subject)


def _failed(context: _Context, failure: SendFailure, *, now: datetime, session: Session,
            subject: str) -> SendOutcome:
    message, enrollment, prospect = context.message, context.enrollment, context.prospect
    detail = str(failure)[:1000]
    message.error, message.claim_id = detail, None
    session.add(message)
    if failure.permanent and failure.recipient:
        message.state = "failed"
        suppress(message.to_addr, "bounced", detail, session=session, at=now)
        end_enrollment(enrollment, "bounced", f"step {message.position}: {detail}", session=session, at=now)
        log_activity(prospect, "bounced", f"{message.to_addr}: {detail}", session=session, at=now, commit=False)
        result = "bounced"
    elif failure.permanent or message.attempts >= MAX_ATTEMPTS:
        message.state = "failed"
        if not failure.permanent:
            detail = f"gave up after {message.attempts} attempts: {detail}"
        end_enrollment(enrollment, "stopped", f"step {message.position} not sent: {detail}", session=session, at=now)
        log_activity(prospect, "email_failed", f"step {message.position}: {detail}", session=session, at=now,
                     commit=False)
        result = "failed"
    else:
        message.state = "due"
        message.due_at = now + backoff(message.attempts)
        enrollment.next_at = message.due_at
        session.add(enrollment)
        detail = f"{detail}; next try {as_utc(message.due_at):%Y-%m-%d %H:%M} UTC"
        result = "retry"
    session.commit()
    return context.outcome(result, detail, subject=subject)
