"""Email sequences: named, ordered steps; enrolling prospects in them; where each enrollment stands.

A sequence is a list of emails, each sent `wait_days` after the previous one (after enrolment for the first).
Enrolling a community makes an `Enrollment` (at one address, with its own unsubscribe token) and the first step's
`OutboundMessage` row in state `due`; `recruiter.outreach.mail.sending` sends due rows and schedules the next step,
`recruiter.outreach.mail.inbox` stops an enrollment when the mailbox shows a reply, a bounce or an opt-out.

The rules are the pipeline's (`recruiter.outreach.pipeline`): a community that heard from us before, whose address
bounced or opted out, or that is already in a sequence is never enrolled; the web app and the CLI both call
`enroll`, so they refuse the same things with the same words.

Editing a sequence needs SEQUENCES, deleting one DELETE, enrolling OUTREACH (`recruiter.accounts.roles`); each
change is recorded in the audit log with the change.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from profiles.service import require_profile
from recruiter.accounts import audit
from recruiter.accounts.roles import DELETE, OUTREACH, SEQUENCES, Actor, require
from recruiter.core.errors import Conflict, InvalidValue, NotFound, RecruiterError
from recruiter.core.models import (
    CONTACTED_STAGES,
    Community,
    EmailSequence,
    EmailSuppression,
    Enrollment,
    OutboundMessage,
    Prospect,
    SequenceStep,
    as_utc,
    iso_utc,
    utcnow,
)
from recruiter.outreach.pipeline import contacted_before, find_community, get_or_create_prospect, log_activity
from recruiter.outreach.templates import SEQUENCE_PLACEHOLDERS, unknown_placeholders

MAX_STEPS = 20
MAX_WAIT_DAYS = 365
MAX_SUBJECT = 300
MAX_BODY = 50_000
# An address we can write to: plain ASCII, one @, a dotted domain. Scraped text is hostile: no spaces, angle
# brackets, commas or line breaks ever reach a header.
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                      r"[A-Za-z]{2,63}$")
# Mailboxes nobody reads: writing to them is wasted and hurts the sender's reputation.
UNREAD_LOCAL_PARTS = {"noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster", "bounce",
                      "bounces", "abuse"}


class SequenceError(RecruiterError, ValueError):
    pass


# --- sequences ------------------------------------------------------------------------------------------

@dataclass
class StepSpec:
    wait_days: int
    subject: str
    body: str


def parse_step(text: str, *, index: int = 1) -> StepSpec:
    """`DAYS|SUBJECT|BODY` (the body may hold more `|`; a literal `\\n` is a line break)."""
    parts = (text or "").split("|", 2)
    if len(parts) != 3:
        raise InvalidValue(f"step {index}: expected DAYS|SUBJECT|BODY, got {text[:60]!r}")
    days, subject, body = parts
    try:
        wait = int(days.strip())
    except ValueError:
        raise InvalidValue(f"step {index}: {days.strip()!r} is not a number of days") from None
    return check_step(StepSpec(wait, subject.strip(), body.replace("\\n", "\n").strip()), index=index)


def check_step(step: StepSpec, *, index: int) -> StepSpec:
    """A step as stored, or `InvalidValue` naming the step and what is wrong with it."""
    if not 0 <= step.wait_days <= MAX_WAIT_DAYS:
        raise InvalidValue(f"step {index}: wait must be 0 to {MAX_WAIT_DAYS} days, got {step.wait_days}")
    subject = " ".join((step.subject or "").split())
    if not subject:
        raise InvalidValue(f"step {index}: the subject is empty")
    if len(subject) > MAX_SUBJECT:
        raise InvalidValue(f"step {index}: the subject is longer than {MAX_SUBJECT} characters")
    body = (step.body or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidValue(f"step {index}: the body is empty")
    if len(body) > MAX_BODY:
        raise InvalidValue(f"step {index}: the body is longer than {MAX_BODY:,} characters")
    unknown = unknown_placeholders(subject + "\n" + body)
    if unknown:
        known = ", ".join(f"{{{p}}}" for p in SEQUENCE_PLACEHOLDERS)
        raise InvalidValue(f"step {index}: unknown placeholder {', '.join(unknown)} (known: {known})")
    return StepSpec(step.wait_days, subject, body)


def check_steps(steps: list[StepSpec]) -> list[StepSpec]:
    if not steps:
        raise InvalidValue("a sequence needs at least one step (--step \"DAYS|SUBJECT|BODY\")")
    if len(steps) > MAX_STEPS:
        raise InvalidValue(f"a sequence has at most {MAX_STEPS} steps")
    return [check_step(s, index=i) for i, s in enumerate(steps, start=1)]


def _check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidValue("a sequence needs a name")
    if len(name) > 200:
        raise InvalidValue("a sequence name is at most 200 characters")
    return name


def get_sequence(name_or_id: str | int, *, session: Session) -> EmailSequence:
    found = None
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        found = session.get(EmailSequence, int(name_or_id))
    if found is None:
        found = session.exec(select(EmailSequence).where(EmailSequence.name == str(name_or_id).strip())).first()
    if found is None:
        names = ", ".join(session.exec(select(EmailSequence.name).order_by(EmailSequence.name)).all()) or "none yet"
        raise NotFound(f"no sequence named {str(name_or_id)!r} (sequences: {names})")
    return found


def sequence_steps(sequence: EmailSequence, *, session: Session) -> list[SequenceStep]:
    return list(session.exec(select(SequenceStep).where(SequenceStep.sequence_id == sequence.id)
                             .order_by(SequenceStep.position)).all())


def create_sequence(name: str, steps: list[StepSpec], *, actor: Actor, session: Session) -> EmailSequence:
    """A new sequence; a name already taken is refused (`update_sequence` changes one). Needs SEQUENCES."""
    actor = require(actor, SEQUENCES, session=session)
    name = _check_name(name)
    steps = check_steps(steps)
    if session.exec(select(EmailSequence.id).where(EmailSequence.name == name)).first() is not None:
        raise Conflict(f"a sequence named {name!r} exists (edit it, or delete it first)")
    sequence = EmailSequence(name=name)
    session.add(sequence)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a sequence named {name!r} exists (edit it, or delete it first)") from None
    _write_steps(sequence, steps, session=session)
    audit.record(actor, "sequence.create", name, {"steps": len(steps)}, session=session)
    session.commit()
    session.refresh(sequence)
    return sequence


def update_sequence(name_or_id: str | int, *, actor: Actor, session: Session, steps: list[StepSpec] | None = None,
                    new_name: str | None = None) -> EmailSequence:
    """Rename a sequence and/or replace its steps. Enrollments under way keep their progress: their next step is
    re-timed from the new waits, and one whose next step no longer exists is finished. Needs SEQUENCES."""
    actor = require(actor, SEQUENCES, session=session)
    sequence = get_sequence(name_or_id, session=session)
    before = sequence.name
    if new_name is not None and _check_name(new_name) != sequence.name:
        new_name = _check_name(new_name)
        if session.exec(select(EmailSequence.id).where(EmailSequence.name == new_name)).first() is not None:
            raise Conflict(f"a sequence named {new_name!r} exists")
        sequence.name = new_name
        session.exec(update(Enrollment).where(Enrollment.sequence_id == sequence.id)
                     .values(sequence_name=new_name))
    if steps is not None:
        steps = check_steps(steps)
        session.exec(delete(SequenceStep).where(SequenceStep.sequence_id == sequence.id))
        _write_steps(sequence, steps, session=session)
        _retime(sequence, steps, session=session)
    sequence.updated_at = utcnow()
    session.add(sequence)
    detail: dict[str, Any] = {"steps": len(steps) if steps is not None else None}
    if sequence.name != before:
        detail["renamed_from"] = before
    audit.record(actor, "sequence.update", sequence.name, detail, session=session)
    session.commit()
    session.refresh(sequence)
    return sequence


def _write_steps(sequence: EmailSequence, steps: list[StepSpec], *, session: Session) -> None:
    for position, step in enumerate(steps, start=1):
        session.add(SequenceStep(sequence_id=sequence.id, position=position, wait_days=step.wait_days,
                                 subject=step.subject, body=step.body))


def _retime(sequence: EmailSequence, steps: list[StepSpec], *, session: Session) -> None:
    rows = session.exec(select(OutboundMessage, Enrollment).join(Enrollment,
                                                                 Enrollment.id == OutboundMessage.enrollment_id)
                        .where(Enrollment.sequence_id == sequence.id, Enrollment.state == "active",
                               OutboundMessage.state == "due")).all()
    now = utcnow()
    for message, enrollment in rows:
        if message.position > len(steps):
            message.state = "cancelled"
            message.error = "the sequence no longer has this step"
            end_enrollment(enrollment, "finished", "the sequence was shortened", session=session, at=now)
        elif message.attempts == 0:  # a retry keeps its back-off time
            message.due_at = as_utc(message.base_at) + timedelta(days=steps[message.position - 1].wait_days)
            enrollment.next_at = message.due_at
        session.add_all([message, enrollment])


def delete_sequence(name_or_id: str | int, *, actor: Actor, session: Session, force: bool = False) -> int:
    """Delete a sequence; refused while prospects are active in it unless `force`, which stops them first.
    Their history (enrollments, messages sent) is kept. Returns how many active enrollments were stopped.
    Needs DELETE; audited as "sequence.delete"."""
    actor = require(actor, DELETE, session=session)
    sequence = get_sequence(name_or_id, session=session)
    active = list(session.exec(select(Enrollment).where(Enrollment.sequence_id == sequence.id,
                                                        Enrollment.state == "active")).all())
    if active and not force:
        raise Conflict(f"sequence {sequence.name!r} has {len(active)} active enrollment(s); "
                       "use --force to stop them and delete it")
    now = utcnow()
    for enrollment in active:
        end_enrollment(enrollment, "stopped", f"sequence {sequence.name!r} deleted", session=session, at=now)
    session.exec(update(Enrollment).where(Enrollment.sequence_id == sequence.id).values(sequence_id=None))
    session.exec(delete(SequenceStep).where(SequenceStep.sequence_id == sequence.id))
    audit.record(actor, "sequence.delete", sequence.name, {"stopped": len(active)}, session=session)
    session.delete(sequence)
    session.commit()
    return len(active)


@dataclass
class SequenceSummary:
    id: int
    name: str
    steps: int
    active: int
    replied: int
    bounced: int
    opted_out: int
    finished: int
    stopped: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_sequences(*, session: Session) -> list[SequenceSummary]:
    sequences = list(session.exec(select(EmailSequence).order_by(EmailSequence.name)).all())
    step_counts = dict(session.exec(select(SequenceStep.sequence_id, func.count())
                                    .group_by(SequenceStep.sequence_id)).all())
    states: dict[tuple[int, str], int] = {
        (sid, state): n for sid, state, n in session.exec(
            select(Enrollment.sequence_id, Enrollment.state, func.count())
            .where(Enrollment.sequence_id.is_not(None)).group_by(Enrollment.sequence_id, Enrollment.state)).all()}
    return [SequenceSummary(id=s.id, name=s.name, steps=step_counts.get(s.id, 0),
                            active=states.get((s.id, "active"), 0), replied=states.get((s.id, "replied"), 0),
                            bounced=states.get((s.id, "bounced"), 0), opted_out=states.get((s.id, "opted-out"), 0),
                            finished=states.get((s.id, "finished"), 0), stopped=states.get((s.id, "stopped"), 0))
            for s in sequences]


def sequence_to_dict(sequence: EmailSequence, *, session: Session) -> dict[str, Any]:
    return {"name": sequence.name,
            "steps": [{"step": s.position, "wait_days": s.wait_days, "subject": s.subject, "body": s.body}
                      for s in sequence_steps(sequence, session=session)]}


# --- addresses --------------------------------------------------------------------------------------------

def usable_email(value: str | None) -> str | None:
    """The address as we would write to it, or None when it is not one we can or should write to."""
    text = (value or "").strip().removeprefix("mailto:").split("?", 1)[0].strip()
    if not EMAIL_RE.fullmatch(text) or ".." in text:
        return None
    if text.split("@", 1)[0].lower() in UNREAD_LOCAL_PARTS:
        return None
    return text


def contact_email(community: Community) -> str | None:
    """The community's first address we can write to (from an import or a scrape)."""
    for value in community.emails or []:
        email = usable_email(value if isinstance(value, str) else None)
        if email:
            return email
    return None


def suppression(address: str, *, session: Session) -> EmailSuppression | None:
    return session.get(EmailSuppression, (address or "").strip().lower())


def suppress(address: str, reason: str, detail: str = "", *, session: Session, at: datetime | None = None) -> None:
    """Never write to this address again (added to the session; the caller commits). A bounce never replaces an
    opt-out: the owner's wish is the stronger fact."""
    key = (address or "").strip().lower()
    if not key:
        return
    row = session.get(EmailSuppression, key)
    if row is None:
        session.add(EmailSuppression(address=key, reason=reason, detail=detail[:1000], at=at or utcnow()))
    elif row.reason != "opted-out" and reason == "opted-out":
        row.reason, row.detail, row.at = reason, detail[:1000], at or utcnow()
        session.add(row)


# --- enrolment --------------------------------------------------------------------------------------------

def end_enrollment(enrollment: Enrollment, state: str, reason: str, *, session: Session,
                   at: datetime | None = None) -> bool:
    """Stop an enrollment (its due messages are cancelled); the caller commits. An outcome learnt after the
    sequence finished (a late reply, a bounce) still replaces `finished`; other ends are kept."""
    if enrollment.state not in ("active", "finished") or (enrollment.state == "finished" and state == "finished"):
        return False
    enrollment.state = state
    enrollment.end_reason = reason[:500]
    enrollment.ended_at = at or utcnow()
    enrollment.next_at = None
    enrollment.updated_at = utcnow()
    session.add(enrollment)
    session.exec(update(OutboundMessage).where(OutboundMessage.enrollment_id == enrollment.id,
                                               OutboundMessage.state == "due")
                 .values(state="cancelled", error=f"not sent: {reason}"[:500]))
    return True


@dataclass
class Enrolled:
    url: str
    name: str
    email: str
    first_due: str


@dataclass
class Skipped:
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.target}: {self.reason}"


@dataclass
class EnrollReport:
    sequence: str
    enrolled: list[Enrolled] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.enrolled)} enrolled in {self.sequence!r}"
                + (f", {len(self.skipped)} skipped" if self.skipped else ""))


def enroll(targets: Iterable[str | int], *, sequence: str | int, actor: Actor, session: Session,
           profile: str | int | None = None, now: datetime | None = None) -> EnrollReport:
    """Enroll communities (URLs or ids) in a sequence; those that cannot be are named in `skipped` with why.
    Needs OUTREACH; each enrolment is audited as "sequence.enroll"."""
    actor = require(actor, OUTREACH, session=session)
    chosen = get_sequence(sequence, session=session)
    steps = sequence_steps(chosen, session=session)
    if not steps:
        raise SequenceError(f"sequence {chosen.name!r} has no steps")
    profile_id = require_profile(profile, session=session).id if profile not in (None, "") else None
    now = as_utc(now) if now else utcnow()
    report = EnrollReport(sequence=chosen.name)
    seen: set[int] = set()
    for target in targets:
        try:
            community = (session.get(Community, target) if isinstance(target, int)
                         else find_community(target, session=session))
            if community is None:
                raise NotFound(f"no community {target}")
        except RecruiterError as exc:
            report.skipped.append(Skipped(str(target), str(exc)))
            continue
        if community.id in seen:
            continue
        seen.add(community.id)
        label = community.url
        for attempt in (1, 2):
            try:
                report.enrolled.append(_enroll_one(community, chosen, steps[0], actor=actor, session=session,
                                                   profile_id=profile_id, now=now))
            except SequenceError as exc:
                session.rollback()
                report.skipped.append(Skipped(label, str(exc)))
            except IntegrityError:  # another process made its prospect at the same moment: look again
                session.rollback()
                if attempt == 1:
                    continue
                report.skipped.append(Skipped(label, "changed by another process meanwhile; try again"))
            break
    return report


def enroll_prospect(prospect_id: int, *, sequence: str | int, actor: Actor, session: Session,
                    now: datetime | None = None) -> EnrollReport:
    """Enroll one prospect's community (the prospect page's button), for the profile that surfaced it."""
    actor = require(actor, OUTREACH, session=session)
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise NotFound(f"no prospect {prospect_id}")
    return enroll([prospect.community_id], sequence=sequence, actor=actor, session=session,
                  profile=prospect.profile_id, now=now)


def _enroll_one(community: Community, sequence: EmailSequence, first: SequenceStep, *, actor: Actor,
                session: Session, profile_id: int | None, now: datetime) -> Enrolled:
    email = contact_email(community)
    if email is None:
        raise SequenceError("no contact email (import one, or scrape the site to find one)")
    blocked = suppression(email, session=session)
    if blocked is not None:
        raise SequenceError(f"{email} {blocked.reason} on {as_utc(blocked.at):%Y-%m-%d}: never written to again")
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    session.flush()
    active = session.exec(select(Enrollment).where(Enrollment.prospect_id == prospect.id,
                                                   Enrollment.state == "active")).first()
    if active is not None:
        raise SequenceError(f"already in sequence {active.sequence_name!r}")
    when = contacted_before(prospect, session=session)
    if when is None and prospect.stage in CONTACTED_STAGES:
        when = prospect.stage_changed_at
    if when is not None:
        raise SequenceError(f"contacted before, on {as_utc(when):%Y-%m-%d} (stage {prospect.stage}): "
                            "no double outreach")
    if prospect.stage == "declined":
        raise SequenceError("declined (move it back to shortlisted first if you mean it)")
    enrollment = Enrollment(prospect_id=prospect.id, community_id=community.id, sequence_id=sequence.id,
                            sequence_name=sequence.name, profile_id=profile_id or prospect.profile_id, email=email,
                            token=secrets.token_hex(12), enrolled_at=now, updated_at=now,
                            next_at=now + timedelta(days=first.wait_days))
    session.add(enrollment)
    try:
        session.flush()
    except IntegrityError:  # another process enrolled it a moment ago
        raise SequenceError("already in a sequence") from None
    session.add(OutboundMessage(enrollment_id=enrollment.id, position=1, to_addr=email, base_at=now,
                                due_at=enrollment.next_at))
    log_activity(prospect, "enrolled", f"sequence {sequence.name!r} to {email}", session=session, at=now,
                 data={"sequence": sequence.name, "email": email}, commit=False)
    audit.record(actor, "sequence.enroll", community.url, {"sequence": sequence.name, "email": email},
                 session=session)
    try:
        session.commit()
    except IntegrityError:
        raise SequenceError("already in a sequence") from None
    return Enrolled(url=community.url, name=community.name or community.url, email=email,
                    first_due=enrollment.next_at.isoformat(timespec="seconds"))


# --- where enrollments stand ------------------------------------------------------------------------------

@dataclass
class EnrollmentRow:
    url: str
    name: str
    email: str
    sequence: str
    step: int  # steps sent so far
    steps: int | None  # steps in the sequence (None once it was deleted)
    state: str
    next_at: str | None
    enrolled_at: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def enrollment_rows(*, session: Session, sequence: str | None = None, state: str | None = None,
                    prospect_id: int | None = None) -> list[EnrollmentRow]:
    query = select(Enrollment, Community).join(Community, Community.id == Enrollment.community_id)
    if sequence:
        query = query.where(Enrollment.sequence_id == get_sequence(sequence, session=session).id)
    if state:
        query = query.where(Enrollment.state == state)
    if prospect_id is not None:
        query = query.where(Enrollment.prospect_id == prospect_id)
    step_counts = dict(session.exec(select(SequenceStep.sequence_id, func.count())
                                    .group_by(SequenceStep.sequence_id)).all())
    rows = session.exec(query.order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())).all()
    return [EnrollmentRow(url=c.url, name=c.name or c.url, email=e.email, sequence=e.sequence_name, step=e.step,
                          steps=step_counts.get(e.sequence_id) if e.sequence_id else None, state=e.state,
                          next_at=iso_utc(e.next_at), enrolled_at=iso_utc(e.enrolled_at), reason=e.end_reason)
            for e, c in rows]


@dataclass
class DueStep:
    """A sequence step that goes out within the coming days (the dashboard's follow-ups list shows these)."""

    prospect_id: int
    community_id: int
    url: str
    name: str
    email: str
    sequence: str
    step: int
    subject: str
    due_at: datetime
    overdue: bool
    owner_id: int | None = None  # the prospect's owner

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "due_at": iso_utc(self.due_at)}


def due_steps(*, session: Session, within_days: int = 7, now: datetime | None = None,
              limit: int = 200) -> list[DueStep]:
    """Steps of active enrollments due by `now + within_days`, soonest first (the overdue ones first of all)."""
    now = as_utc(now) if now else utcnow()
    rows = session.exec(
        select(OutboundMessage, Enrollment, Community, SequenceStep, Prospect.owner_id)
        .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .join(Community, Community.id == Enrollment.community_id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id, isouter=True)
        .join(SequenceStep, (SequenceStep.sequence_id == Enrollment.sequence_id)
              & (SequenceStep.position == OutboundMessage.position), isouter=True)
        .where(OutboundMessage.state == "due", Enrollment.state == "active",
               OutboundMessage.due_at <= now + timedelta(days=within_days))
        .order_by(OutboundMessage.due_at, OutboundMessage.id).limit(limit)).all()
    return [DueStep(prospect_id=e.prospect_id, community_id=c.id, url=c.url, name=c.name or c.url, email=e.email,
                    sequence=e.sequence_name, step=m.position, subject=s.subject if s else "",
                    due_at=as_utc(m.due_at), overdue=as_utc(m.due_at) <= now, owner_id=owner_id)
            for m, e, c, s, owner_id in rows]


@dataclass
class MessageRow:
    step: int
    state: str
    to: str
    subject: str
    due_at: str | None
    sent_at: str | None
    attempts: int
    error: str
    message_id: str | None


@dataclass
class ProspectOutreach:
    """What the prospect page's outreach panel shows: the address, the enrollments and their messages."""

    email: str | None
    emails: list[str]
    suppressed: str | None
    enrollments: list[EnrollmentRow]
    messages: list[MessageRow]
    sequences: list[str]


def prospect_outreach(prospect_id: int, *, session: Session) -> ProspectOutreach:
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise NotFound(f"no prospect {prospect_id}")
    community = session.get(Community, prospect.community_id)
    email = contact_email(community)
    blocked = suppression(email, session=session) if email else None
    messages = session.exec(
        select(OutboundMessage).join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .where(Enrollment.prospect_id == prospect_id)
        .order_by(OutboundMessage.due_at.desc(), OutboundMessage.id.desc())).all()
    return ProspectOutreach(
        email=email, emails=[e for e in community.emails or [] if isinstance(e, str)],
        suppressed=f"{blocked.reason} on {as_utc(blocked.at):%Y-%m-%d}" if blocked else None,
        enrollments=enrollment_rows(session=session, prospect_id=prospect_id),
        messages=[MessageRow(step=m.position, state=m.state, to=m.to_addr, subject=m.subject, due_at=iso_utc(m.due_at),
                             sent_at=iso_utc(m.sent_at), attempts=m.attempts, error=m.error, message_id=m.message_id)
                  for m in messages],
        sequences=[s.name for s in session.exec(select(EmailSequence).order_by(EmailSequence.name)).all()])
