"""The outreach pipeline: one prospect per community, its stage history, notes, follow-ups and feedback.

The rules of the pipeline live here and nowhere else, so the CLI, the board, the prospect page and the
sequences refuse the same moves: a community that heard from us once is never "contacted" a second time
without `force` (a prospect moved back to discovered, or one already past contacted), and every move is
recorded in the stage history with its time.

Who may change a prospect is decided here too: every function that changes one takes the acting `Actor`, asks
`recruiter.accounts.roles.require(actor, PROSPECTS)` before anything changes, and records an audit entry
(`recruiter.accounts.audit.record`) in the same transaction as the change. `apply_stage` is the move itself,
without a permission check, for services that checked their own (sending checks OUTREACH, an activation step
PARTNERS, a performance import IMPORT); it still records the move in the audit log under their actor.

Each prospect has an owner: the person who shortlisted it (when it had none), or whom `set_owner` names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import PROSPECTS, Actor, require
from recruiter.core.canonical import canonical_url
from recruiter.core.db import chunked
from recruiter.core.errors import Conflict, NotFound, RecruiterError
from recruiter.core.models import (
    CONTACT_ACTIVITY_KINDS,
    CONTACTED_STAGES,
    Activity,
    Community,
    Feedback,
    Prospect,
    StageChange,
    User,
    check_stage,
    utcnow,
)


class PipelineError(RecruiterError, ValueError):
    pass


# The moves the screens offer from each stage (`None`: the community is not in the pipeline yet). Every other
# move stays possible (a correction, a step skipped): these are the sensible next steps, not a cage.
NEXT_STAGES: dict[str | None, tuple[str, ...]] = {
    None: ("shortlisted", "contacted", "declined"),
    "discovered": ("shortlisted", "contacted", "declined"),
    "shortlisted": ("contacted", "declined"),
    "contacted": ("replied", "declined"),
    "replied": ("negotiating", "joined", "declined"),
    "negotiating": ("joined", "declined"),
    "joined": ("activated", "declined"),
    "activated": ("performing", "declined"),
    "performing": (),
    "declined": ("shortlisted",),
}
# Shortlist / not-a-fit judge a community before outreach; once we wrote to it the question is moot.
FEEDBACK_STAGES = (None, "discovered", "shortlisted")


def next_stages(stage: str | None) -> tuple[str, ...]:
    """The sensible next moves from a stage (`None`: not in the pipeline yet)."""
    return NEXT_STAGES.get(stage, ())


def feedback_welcome(stage: str | None) -> bool:
    """Whether shortlist / not-a-fit makes sense at this stage (before any outreach)."""
    return stage in FEEDBACK_STAGES


class DoubleContactError(PipelineError, Conflict):
    """Moving this prospect to Contacted would reach out a second time."""

    def __init__(self, when: datetime, stage: str | None = None) -> None:
        self.when = when
        self.stage = stage
        if stage:
            message = (f"already {stage} (first contacted on {when:%Y-%m-%d %H:%M} UTC): moving it back to "
                       "contacted would be double outreach; use --force if you really mean it")
        else:
            message = (f"already contacted on {when:%Y-%m-%d %H:%M} UTC: contacting again would be double "
                       "outreach; use --force if you really mean it")
        super().__init__(message)


def find_community(url_or_id: str | int, *, session: Session) -> Community:
    if isinstance(url_or_id, int) or (isinstance(url_or_id, str) and url_or_id.isdigit()):
        community = session.get(Community, int(url_or_id))
        if community is not None:
            return community
    try:
        url = canonical_url(str(url_or_id))
    except ValueError as exc:
        raise PipelineError(str(exc)) from None
    community = session.exec(select(Community).where(Community.url == url)).first()
    if community is None:  # a podcast or blog may be named by its feed: it is kept under its site's URL
        community = session.exec(select(Community).where(Community.feed_url == url)
                                 .order_by(Community.id)).first()
    if community is None:
        raise NotFound(f"no community with URL {url} (import or scrape it first)")
    return community


def find_prospect(community: Community, *, session: Session) -> Prospect | None:
    """The community's prospect, or None when it is not in the pipeline (nothing is created)."""
    return session.exec(select(Prospect).where(Prospect.community_id == community.id)).first()


def get_or_create_prospect(community: Community, *, session: Session, profile_id: int | None = None) -> Prospect:
    prospect = find_prospect(community, session=session)
    if prospect is None:
        prospect = Prospect(community_id=community.id, profile_id=profile_id, stage="discovered")
        session.add(prospect)
        session.flush()
        session.add(StageChange(prospect_id=prospect.id, from_stage=None, to_stage="discovered"))
    elif profile_id and not prospect.profile_id:
        prospect.profile_id = profile_id
        session.add(prospect)
    return prospect


def set_stage(
    community: Community,
    stage: str,
    *,
    actor: Actor,
    session: Session,
    note: str = "",
    profile_id: int | None = None,
    at: datetime | None = None,
    force: bool = False,
) -> Prospect:
    """Move the community's prospect to a stage (creating the prospect if needed) and record the change.

    A move to `contacted` of a community that heard from us before is refused (`DoubleContactError`)
    unless `force`: one already past contacted (replied, joined...), or one contacted once and moved back.
    Needs PROSPECTS; recorded in the audit log as "prospect.stage" (from, to, note)."""
    actor = require(actor, PROSPECTS, session=session)
    return apply_stage(community, stage, actor=actor, session=session, note=note, profile_id=profile_id, at=at,
                       force=force)


def apply_stage(
    community: Community,
    stage: str,
    *,
    actor: Actor,
    session: Session,
    note: str = "",
    profile_id: int | None = None,
    at: datetime | None = None,
    force: bool = False,
) -> Prospect:
    """`set_stage` without the permission check, for a service that checked its own (sending, an activation
    step, a performance import): the move, its history and its audit entry, committed together."""
    stage = check_stage(stage)
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    if stage == "contacted" and prospect.stage != "contacted" and not force:
        check_first_contact(prospect, session=session)
    when = at or utcnow()
    before = prospect.stage
    if prospect.stage != stage:
        session.add(StageChange(prospect_id=prospect.id, from_stage=prospect.stage, to_stage=stage, at=when,
                                note=note))
        prospect.stage = stage
        prospect.stage_changed_at = when
        if stage == "shortlisted" and not prospect.feedback:
            prospect.feedback = "shortlist"
        if stage == "contacted":
            session.add(Activity(prospect_id=prospect.id, kind="contacted", detail=note, at=when))
    if stage == "shortlisted":
        _claim_owner(prospect, actor)
    if note:
        prospect.notes = (prospect.notes + "\n" if prospect.notes else "") + note
        session.add(Activity(prospect_id=prospect.id, kind="note", detail=note, at=when))
    prospect.updated_at = when
    session.add(prospect)
    if before != stage or note:
        detail: dict[str, Any] = {"from": before, "to": stage, "note": note}
        if force and stage == "contacted":
            detail["force"] = True
        audit.record(actor, "prospect.stage", community.url, detail, session=session)
    session.commit()
    session.refresh(prospect)
    return prospect


def _claim_owner(prospect: Prospect, actor: Actor) -> None:
    """A prospect without an owner belongs to whoever shortlists it (a user; the command line owns nothing)."""
    if prospect.owner_id is None and actor.user_id is not None:
        prospect.owner_id = actor.user_id


def set_feedback(community: Community, feedback: str | None, *, actor: Actor, session: Session,
                 profile_id: int | None = None) -> Prospect:
    """Record "shortlist" / "not_a_fit" for the ranking; shortlisting also moves a new prospect on (and makes
    the actor its owner when it has none). Needs PROSPECTS; audited as "prospect.feedback"."""
    actor = require(actor, PROSPECTS, session=session)
    return _set_feedback(community, feedback, actor=actor, session=session, profile_id=profile_id)


def _set_feedback(community: Community, feedback: str | None, *, actor: Actor, session: Session,
                  profile_id: int | None = None) -> Prospect:
    if feedback is not None and feedback not in {f.value for f in Feedback}:
        raise PipelineError(f"unknown feedback {feedback!r} (shortlist or not_a_fit)")
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    if profile_id:
        prospect.profile_id = profile_id
    prospect.feedback = feedback
    if feedback == "shortlist":
        _claim_owner(prospect, actor)
    session.add(Activity(prospect_id=prospect.id, kind="feedback", detail=feedback or "cleared"))
    session.add(prospect)
    audit.record(actor, "prospect.feedback", community.url, {"feedback": feedback}, session=session)
    session.commit()
    if feedback == "shortlist" and prospect.stage == "discovered":
        return apply_stage(community, "shortlisted", actor=actor, session=session)
    if feedback == "not_a_fit" and prospect.stage in ("discovered", "shortlisted"):
        return apply_stage(community, "declined", actor=actor, session=session, note="not a fit")
    return prospect


MAX_NOTE = 20_000  # characters: a note, not a file pasted by mistake


def check_note(text: str | None) -> str:
    """The note as stored (trimmed), or `PipelineError` saying why it cannot be one."""
    text = (text or "").strip()
    if not text:
        raise PipelineError("a note needs text")
    if len(text) > MAX_NOTE:
        raise PipelineError(f"a note is at most {MAX_NOTE:,} characters (this one has {len(text):,})")
    return text


def add_note(prospect: Prospect, text: str, *, actor: Actor, session: Session) -> Activity:
    """A timestamped note on the prospect. Needs PROSPECTS; audited as "prospect.note"."""
    actor = require(actor, PROSPECTS, session=session)
    return _add_note(prospect, check_note(text), actor=actor, session=session)


def _add_note(prospect: Prospect, text: str, *, actor: Actor, session: Session) -> Activity:
    prospect.notes = (prospect.notes + "\n" if prospect.notes else "") + text
    prospect.updated_at = utcnow()
    activity = Activity(prospect_id=prospect.id, kind="note", detail=text)
    session.add_all([prospect, activity])
    audit.record(actor, "prospect.note", _url_of(prospect, session=session), {"text": text}, session=session)
    session.commit()
    return activity


def _url_of(prospect: Prospect, *, session: Session) -> str:
    community = session.get(Community, prospect.community_id)
    return community.url if community is not None else ""


def log_activity(prospect: Prospect, kind: str, detail: str = "", *, session: Session,
                 data: dict[str, Any] | None = None, at: datetime | None = None, commit: bool = True) -> Activity:
    """Add an event to the prospect's timeline (at `at`, default now); `commit=False` leaves the commit to the
    caller, so the event lands in the same transaction as the change it describes."""
    activity = Activity(prospect_id=prospect.id, kind=kind, detail=detail, data=data or {}, at=at or utcnow())
    session.add(activity)
    if commit:
        session.commit()
    return activity


def set_follow_up(prospect: Prospect, when: date | None, *, actor: Actor, session: Session) -> Prospect:
    """Set (or clear) the next follow-up date. Needs PROSPECTS; audited as "prospect.follow_up"."""
    actor = require(actor, PROSPECTS, session=session)
    return _set_follow_up(prospect, when, actor=actor, session=session)


def _set_follow_up(prospect: Prospect, when: date | None, *, actor: Actor, session: Session,
                   log: bool = False) -> Prospect:
    prospect.next_follow_up = when
    prospect.updated_at = utcnow()
    session.add(prospect)
    if log:
        log_activity(prospect, "follow_up", when.isoformat() if when else "cleared", session=session, commit=False)
    audit.record(actor, "prospect.follow_up", _url_of(prospect, session=session),
                 {"date": when.isoformat() if when else None}, session=session)
    session.commit()
    return prospect


def repeat_contact_at(prospect: Prospect | None, *, session: Session) -> datetime | None:
    """When the first contact was, if reaching out now would be a second first contact; else None.

    A prospect waiting at Contacted (a follow-up to our own message) or further on (a conversation under way)
    is not a repeat; one moved back to discovered, shortlisted or declined after we wrote to it is."""
    if prospect is None or prospect.id is None or prospect.stage in CONTACTED_STAGES:
        return None
    return contacted_before(prospect, session=session)


def check_first_contact(prospect: Prospect, *, session: Session) -> None:
    """Raise `DoubleContactError` when reaching out to this prospect now would be a second first contact."""
    if prospect.id is None or prospect.stage == "contacted":
        return
    when = contacted_before(prospect, session=session)
    past = prospect.stage in CONTACTED_STAGES
    if past and when is None:
        when = prospect.stage_changed_at  # moved straight past contacted (a reply logged first)
    if when is not None:
        raise DoubleContactError(when, stage=prospect.stage if past else None)


def contacted_before(prospect: Prospect, *, session: Session) -> datetime | None:
    """When this community was first contacted, if ever: the guard against double outreach."""
    first = session.exec(
        select(StageChange.at).where(StageChange.prospect_id == prospect.id,
                                     StageChange.to_stage.in_(CONTACTED_STAGES)).order_by(StageChange.at)
    ).first()
    if first:
        return first
    return session.exec(
        select(Activity.at).where(Activity.prospect_id == prospect.id,
                                  Activity.kind.in_(CONTACT_ACTIVITY_KINDS))
        .order_by(Activity.at)
    ).first()


def list_prospects(*, session: Session, stage: str | None = None, profile_id: int | None = None,
                   owner_id: int | None = None) -> list[tuple[Prospect, Community]]:
    query = select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
    if stage:
        query = query.where(Prospect.stage == check_stage(stage))
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    if owner_id is not None:
        query = query.where(Prospect.owner_id == owner_id)
    return list(session.exec(query.order_by(Prospect.stage_changed_at.desc())).all())


def prospect_ids_by_url(urls: list[str], *, session: Session) -> dict[str, int]:
    """{community URL: prospect id} for those of these communities that have a prospect."""
    out: dict[str, int] = {}
    for part in chunked(urls):
        out.update(session.exec(select(Community.url, Prospect.id).join(Prospect, Prospect.community_id == Community.id)
                                .where(Community.url.in_(part))).all())
    return out


def stage_history(prospect: Prospect, *, session: Session) -> list[StageChange]:
    return list(session.exec(select(StageChange).where(StageChange.prospect_id == prospect.id)
                             .order_by(StageChange.at, StageChange.id)).all())


def activities(prospect: Prospect, *, session: Session) -> list[Activity]:
    return list(session.exec(select(Activity).where(Activity.prospect_id == prospect.id)
                             .order_by(Activity.at.desc(), Activity.id.desc())).all())


def owner_emails(owner_ids: list[int | None], *, session: Session) -> dict[int, str]:
    """{user id: email} of these owners (one query)."""
    wanted = sorted({i for i in owner_ids if i is not None})
    out: dict[int, str] = {}
    for part in chunked(wanted):
        out.update(session.exec(select(User.id, User.email).where(User.id.in_(part))).all())
    return out


def owner_email(prospect: Prospect | None, *, session: Session) -> str | None:
    if prospect is None or prospect.owner_id is None:
        return None
    user = session.get(User, prospect.owner_id)
    return user.email if user is not None else None


def set_owner(community: Community, email: str | None, *, actor: Actor, session: Session,
              profile_id: int | None = None) -> Prospect:
    """Give the community's prospect an owner (a user's email; None: nobody). Needs PROSPECTS; audited as
    "prospect.owner" (from, to)."""
    actor = require(actor, PROSPECTS, session=session)
    user = None
    if email:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise NotFound(f"no user {email!r} (recruiter user list shows them)")
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    before = owner_email(prospect, session=session)
    prospect.owner_id = user.id if user is not None else None
    prospect.updated_at = utcnow()
    session.add(prospect)
    audit.record(actor, "prospect.owner", community.url, {"from": before, "to": user.email if user else None},
                 session=session)
    session.commit()
    session.refresh(prospect)
    return prospect


def prospect_to_dict(prospect: Prospect, community: Community, owner: str | None = None) -> dict[str, Any]:
    return {
        "url": community.url,
        "name": community.name,
        "kind": community.kind,
        "stage": prospect.stage,
        "owner": owner,
        "feedback": prospect.feedback,
        "next_follow_up": prospect.next_follow_up.isoformat() if prospect.next_follow_up else None,
        "stage_changed_at": prospect.stage_changed_at.isoformat(timespec="seconds"),
        "notes": prospect.notes,
    }


# --- moves the screens make ----------------------------------------------------------------------------

def apply_feedback(community_ids: list[int], feedback: str | None, *, actor: Actor, session: Session,
                   profile_id: int | None) -> int:
    """Shortlist or reject communities for a profile (the next ranking learns from it); returns how many."""
    actor = require(actor, PROSPECTS, session=session)
    done = 0
    for cid in community_ids:
        community = session.get(Community, cid)
        if community is not None:
            _set_feedback(community, feedback, actor=actor, session=session, profile_id=profile_id)
            done += 1
    return done


def move_communities(community_ids: list[int], stage: str, *, actor: Actor, session: Session,
                     profile_id: int | None = None, force: bool = False) -> tuple[int, list[str]]:
    """Move communities' prospects to a stage; those it would double-contact are skipped unless forced."""
    actor = require(actor, PROSPECTS, session=session)
    moved, skipped = 0, []
    for cid in community_ids:
        community = session.get(Community, cid)
        if community is None:
            continue
        get_or_create_prospect(community, session=session, profile_id=profile_id)
        session.commit()
        try:
            apply_stage(community, stage, actor=actor, session=session, force=force)
            moved += 1
        except DoubleContactError as exc:
            session.rollback()
            skipped.append(f"{community.name or community.url}: {exc}")
    return moved, skipped


def move_prospect(prospect_id: int, stage: str, *, actor: Actor, session: Session, force: bool = False,
                  note: str = "", at: datetime | None = None) -> Prospect:
    """Move one prospect (what a drop on the board does); refuses a second first-contact unless forced."""
    actor = require(actor, PROSPECTS, session=session)
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise NotFound(f"no prospect {prospect_id}")
    community = session.get(Community, prospect.community_id)
    return apply_stage(community, stage, actor=actor, session=session, note=note, at=at, force=force)


def start_prospect(community_id: int, *, actor: Actor, session: Session, profile_id: int | None = None) -> Prospect:
    """The community's prospect, created (as Discovered) when it has none yet.

    Call it when the user acts on a community (a note, a follow-up date, a message), never to show one: opening
    a page creates nothing. Needs PROSPECTS; a new prospect is audited as "prospect.start"."""
    actor = require(actor, PROSPECTS, session=session)
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"no community {community_id}")
    return _start(community, actor=actor, session=session, profile_id=profile_id)


def _start(community: Community, *, actor: Actor, session: Session, profile_id: int | None = None) -> Prospect:
    new = find_prospect(community, session=session) is None
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    if new:
        audit.record(actor, "prospect.start", community.url, session=session)
    session.commit()
    session.refresh(prospect)
    return prospect


def note_prospect(community: Community, text: str, *, actor: Actor, session: Session,
                  profile_id: int | None = None) -> Activity:
    """Add a timestamped note to the community's prospect (created when absent: writing a note is acting)."""
    actor = require(actor, PROSPECTS, session=session)
    text = check_note(text)  # before anything is created
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    return _add_note(prospect, text, actor=actor, session=session)


def schedule_follow_up(community: Community, when: date | None, *, actor: Actor, session: Session,
                       profile_id: int | None = None) -> Prospect:
    """Set (or clear, with None) the next follow-up date and record it in the prospect's activities."""
    actor = require(actor, PROSPECTS, session=session)
    prospect = find_prospect(community, session=session)
    if prospect is None and when is None:
        raise PipelineError("not in the pipeline: there is no follow-up to clear")
    prospect = prospect or get_or_create_prospect(community, session=session, profile_id=profile_id)
    if prospect.next_follow_up == when:
        session.commit()
        return prospect
    _set_follow_up(prospect, when, actor=actor, session=session, log=True)
    session.refresh(prospect)
    return prospect


def log_contact(prospect_id: int, kind: str, detail: str, *, actor: Actor, session: Session) -> Prospect:
    """Record that the user reached out (opened a mail, copied a template); a new prospect moves to Contacted.

    The user has already written: the contact is recorded as it happened (the screens warn before a second
    first contact, not after it). Needs PROSPECTS; audited as "prospect.contact"."""
    actor = require(actor, PROSPECTS, session=session)
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise NotFound(f"no prospect {prospect_id}")
    community = session.get(Community, prospect.community_id)
    log_activity(prospect, kind, detail, session=session, commit=False)
    audit.record(actor, "prospect.contact", community.url, {"kind": kind, "detail": detail}, session=session)
    session.commit()
    if prospect.stage in ("discovered", "shortlisted"):
        prospect = apply_stage(community, "contacted", actor=actor, session=session, force=True)
    return prospect
