"""Role checks in the services, for every kind of change, and the audit trail they write.

Each test acts as the faces do: a web user's actor comes from a real session (`recruiter.accounts.login`), so
`require` reads the role from the database at every call; the command line acts as `Actor.cli()`. A refusal
must change nothing: no row, no setting, no key, no audit entry claiming it happened.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from recruiter.accounts import audit
from recruiter.accounts.login import authenticate, session_user, start_session
from recruiter.accounts.roles import Actor, NotAllowed
from recruiter.accounts.users import add_user, set_role
from recruiter.catalogue.importing import save_records
from recruiter.core.models import (
    AuditEntry,
    Community,
    EmailSequence,
    PerformanceDay,
    Profile,
    ProfileCreate,
    Prospect,
    Setting,
)
from recruiter.outreach.pipeline import find_community

CLI = Actor.cli()
PASSWORD = "correct horse"
YOGA = "https://www.reddit.com/r/yoga/"  # as stored (canonical)
BAKING = "https://www.reddit.com/r/baking/"
BLOG = "https://yogablog.example"
IP = "198.51.100.23"


@pytest.fixture
def world(session):
    """A team (owner, admin, member, viewer), three communities, a profile and a sequence, set up at the CLI."""
    from profiles.service import create_profile
    from recruiter.outreach.sequences import StepSpec, create_sequence

    for email, role in (("o@example.com", "owner"), ("a@example.com", "admin"), ("m@example.com", "member"),
                        ("v@example.com", "viewer")):
        add_user(email, role, PASSWORD, actor=CLI, session=session)
    save_records([{"url": YOGA, "name": "r/yoga"}, {"url": BAKING, "name": "r/Baking"},
                  {"url": BLOG, "name": "Yoga blog", "emails": ["hello@yogablog.example"]}], session=session)
    create_profile(ProfileCreate(name="yoga", description="Yoga mats for beginners"), actor=CLI, session=session)
    create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name} {unsubscribe}")], actor=CLI, session=session)
    return session


def web(session, email: str, ip: str = IP) -> Actor:
    """The actor of a fresh web session of ``email``, as `ui.access.page_actor` gives it to a page."""
    user = authenticate(email, PASSWORD, ip=ip, session=session)
    token = start_session(user, ip=ip, session=session)
    return session_user(token, session=session).actor(ip)


def snapshot(session) -> dict:
    """Everything a refused change could have touched."""
    session.rollback()
    prospects = session.exec(select(Prospect)).all()
    return {
        "prospects": sorted((p.community_id, p.stage, p.feedback, p.notes, p.next_follow_up, p.owner_id)
                            for p in prospects),
        "sequences": sorted(session.exec(select(EmailSequence.name)).all()),
        "profiles": sorted(session.exec(select(Profile.name)).all()),
        "communities": session.exec(select(func.count()).select_from(Community)).one(),
        "settings": sorted((s.key, json.dumps(s.value, sort_keys=True, default=str))
                           for s in session.exec(select(Setting)).all()),
        "days": session.exec(select(func.count()).select_from(PerformanceDay)).one(),
        "audit": session.exec(select(func.count()).select_from(AuditEntry)).one(),
    }


def community(session, url: str = YOGA) -> Community:
    return find_community(url, session=session)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def changes(session, tmp_path: Path) -> dict:
    """One change of every kind, as callables of an actor: what a role may or may not do."""
    from profiles.service import create_profile, delete_profile, get_profile, update_profile
    from recruiter.catalogue.exporting import export_rows
    from recruiter.catalogue.importing import import_files
    from recruiter.discovery.sources import set_setting
    from recruiter.outreach.pipeline import (
        note_prospect,
        schedule_follow_up,
        set_feedback,
        set_owner,
        set_stage,
        start_prospect,
    )
    from recruiter.outreach.sequences import StepSpec, create_sequence, delete_sequence, enroll, update_sequence
    from recruiter.outreach.templates import save_outreach_templates, set_merchant_name
    from recruiter.partners.links import create_link
    from recruiter.partners.performance import import_performance, remove_days
    from recruiter.partners.platforms import choose_platform
    from recruiter.tasks.submit import submit_scrape

    csv = write(tmp_path, "more.csv", "url,name\nhttps://www.reddit.com/r/running/,r/running\n")
    numbers = write(tmp_path, "numbers.csv", "date,partner,clicks\n2026-01-02,https://www.reddit.com/r/yoga/,5\n")
    s = session
    return {
        "stage": lambda a: set_stage(community(s), "contacted", actor=a, session=s),
        "feedback": lambda a: set_feedback(community(s), "shortlist", actor=a, session=s),
        "note": lambda a: note_prospect(community(s), "asked the mods", actor=a, session=s),
        "follow-up": lambda a: schedule_follow_up(community(s), date.today(), actor=a, session=s),
        "start": lambda a: start_prospect(community(s).id, actor=a, session=s),
        "owner": lambda a: set_owner(community(s), "m@example.com", actor=a, session=s),
        "sequence": lambda a: create_sequence("second", [StepSpec(1, "Hi", "Hi {name} {unsubscribe}")],
                                              actor=a, session=s),
        "sequence edit": lambda a: update_sequence("intro", new_name="first", actor=a, session=s),
        "enroll": lambda a: enroll([BLOG], sequence="intro", actor=a, session=s),
        "templates": lambda a: save_outreach_templates([{"name": "x", "subject": "s", "body": "b"}], actor=a,
                                                       session=s),
        "profile": lambda a: create_profile(ProfileCreate(name="runners", description="Trail shoes"), actor=a,
                                            session=s),
        "profile edit": lambda a: update_profile(get_profile("yoga", session=s), actor=a, session=s,
                                                 description="Cork yoga mats"),
        "import": lambda a: import_files([csv], actor=a, session=s),
        "performance import": lambda a: import_performance(numbers, actor=a, session=s),
        "link": lambda a: create_link(community(s), "https://shop.example", actor=a, session=s),
        "merchant": lambda a: set_merchant_name("Mat & Mind", actor=a, session=s),
        "scrape": lambda a: submit_scrape(["https://example.com/"], actor=a, session=s),
        "export": lambda a: export_rows(actor=a, session=s),
        "delete profile": lambda a: delete_profile(get_profile("yoga", session=s), actor=a, session=s),
        "delete sequence": lambda a: delete_sequence("intro", actor=a, session=s),
        "remove days": lambda a: remove_days(actor=a, session=s, source_file="numbers.csv"),
        "platform": lambda a: choose_platform("rewardful", actor=a, session=s),
        "keys": lambda a: set_setting("RECRUITER_BRAVE_API_KEY", "brave-secret-1234", actor=a, session=s),
    }


READS_ONLY = {"export"}  # what a viewer may still do
MEMBER_REFUSED = {"delete profile", "delete sequence", "remove days", "platform", "keys"}


def test_a_viewer_is_refused_every_change_and_nothing_changes(world, tmp_path) -> None:
    from recruiter.core.credentials import stored_values

    viewer = web(world, "v@example.com")
    before = snapshot(world)
    for kind, change in changes(world, tmp_path).items():
        if kind in READS_ONLY:
            continue
        with pytest.raises(NotAllowed, match=r"v@example\.com is a viewer: a viewer cannot"):
            change(viewer)
        assert snapshot(world) == before, f"a refused {kind} changed something"
    assert "RECRUITER_BRAVE_API_KEY" not in stored_values()


def test_a_member_works_prospects_but_deletes_nothing_and_touches_no_keys_or_platform(world, tmp_path) -> None:
    from recruiter.core.credentials import stored_values

    member = web(world, "m@example.com")
    todo = changes(world, tmp_path)
    before = snapshot(world)
    for kind in sorted(MEMBER_REFUSED):
        with pytest.raises(NotAllowed, match="a member cannot"):
            todo[kind](member)
        assert snapshot(world) == before, f"a refused {kind} changed something"
    assert "RECRUITER_BRAVE_API_KEY" not in stored_values()
    for kind in ("stage", "note", "follow-up", "sequence", "enroll", "profile", "import", "link", "scrape",
                 "export"):
        todo[kind](member)  # allowed: no refusal
    assert snapshot(world)["audit"] > before["audit"]


def test_an_admin_deletes_and_sets_keys_but_cannot_give_the_owner_role(world, tmp_path) -> None:
    admin = web(world, "a@example.com")
    todo = changes(world, tmp_path)
    for kind in ("delete sequence", "delete profile", "platform", "keys"):
        todo[kind](admin)
    with pytest.raises(NotAllowed, match="give or take the owner role"):
        set_role("m@example.com", "owner", actor=admin, session=world)
    world.rollback()
    assert {a.action for a in audit.entries(session=world, user="a@example.com")} >= {
        "sequence.delete", "profile.delete", "platform.choose", "credentials.set"}


def test_a_role_changed_meanwhile_counts_at_the_next_change(world) -> None:
    from recruiter.outreach.pipeline import set_stage

    member = web(world, "m@example.com")
    set_stage(community(world), "shortlisted", actor=member, session=world)
    set_role("m@example.com", "viewer", actor=CLI, session=world)
    with pytest.raises(NotAllowed, match="a viewer cannot change prospects"):
        set_stage(community(world), "contacted", actor=member, session=world)  # the actor still says member
    world.rollback()
    assert find_community(YOGA, session=world) is not None
    assert world.exec(select(Prospect)).one().stage == "shortlisted"


def test_a_stage_change_is_audited_with_who_when_what_and_from_where(world) -> None:
    from recruiter.core.models import utcnow
    from recruiter.outreach.pipeline import set_stage

    member = web(world, "m@example.com")
    started = utcnow() - timedelta(seconds=1)
    set_stage(community(world), "contacted", actor=member, session=world, note="DM to the mods")
    world.rollback()
    entry = audit.entries(session=world, action="prospect.stage")[0]
    assert (entry.actor, entry.via, entry.ip, entry.target) == ("m@example.com", "web", IP, YOGA)
    assert entry.detail == {"from": "discovered", "to": "contacted", "note": "DM to the mods"}
    assert entry.at >= started
    public = entry.as_dict()
    assert public["user"] == "m@example.com" and public["ip"] == IP and public["action"] == "prospect.stage"
    assert datetime.fromisoformat(public["at"]) == entry.at.replace(microsecond=0)


def test_notes_exports_deletes_and_key_changes_are_audited(world, tmp_path) -> None:
    from profiles.service import delete_profile, get_profile
    from recruiter.catalogue.exporting import export_rows
    from recruiter.discovery.sources import set_setting
    from recruiter.matching.matches import matches_csv
    from recruiter.outreach.pipeline import note_prospect

    owner = web(world, "o@example.com")
    note_prospect(community(world), "Wrote to the mods", actor=owner, session=world)
    assert len(export_rows(actor=owner, session=world, fmt="csv")) == 3
    matches_csv(get_profile("yoga", session=world).id, actor=owner, session=world)
    delete_profile(get_profile("yoga", session=world), actor=owner, session=world)
    set_setting("RECRUITER_BRAVE_API_KEY", "brave-secret-1234", actor=owner, session=world)
    set_setting("RECRUITER_BRAVE_API_KEY", "", actor=owner, session=world)
    world.rollback()
    by_action = {}
    for entry in audit.entries(session=world, user="o@example.com"):
        by_action.setdefault(entry.action, []).append(entry)
    assert by_action["prospect.note"][0].target == YOGA
    assert by_action["prospect.note"][0].detail == {"text": "Wrote to the mods"}
    exports = {e.detail["what"]: e for e in by_action["export"]}
    assert exports["communities"].detail["rows"] == 3 and exports["communities"].detail["format"] == "csv"
    assert exports["prospects"].target == "yoga"
    assert by_action["profile.delete"][0].target == "yoga"
    assert [e.target for e in by_action["credentials.set"]] == ["RECRUITER_BRAVE_API_KEY"]
    assert [e.target for e in by_action["credentials.unset"]] == ["RECRUITER_BRAVE_API_KEY"]
    every = json.dumps([e.as_dict() for e in audit.entries(session=world)])
    assert "brave-secret" not in every  # the variable's name only, never its value


def test_imports_are_audited_with_the_file_name_and_counts(world, tmp_path) -> None:
    from recruiter.catalogue.importing import import_files
    from recruiter.outreach.pipeline import set_stage
    from recruiter.partners.performance import import_performance

    member = web(world, "m@example.com")
    import_files([write(tmp_path, "runners.csv", "url,name\nhttps://www.reddit.com/r/running/,r/running\nnot a url,x\n")],
                 actor=member, session=world)
    set_stage(community(world), "joined", actor=CLI, session=world)
    import_performance(write(tmp_path, "june.csv", "date,partner,clicks\n2026-01-02,https://www.reddit.com/r/yoga/,5\n"),
                       actor=member, session=world, today=date(2026, 2, 1))
    world.rollback()
    imported = audit.entries(session=world, action="import")[0]
    assert (imported.actor, imported.target) == ("m@example.com", "runners.csv")
    assert imported.detail["created"] == 1 and imported.detail["skipped"] == 1
    numbers = audit.entries(session=world, action="performance.import")[0]
    assert numbers.target == "june.csv" and numbers.detail["kept"] == 1
    # the checklist tick and the stage move the numbers caused are recorded under the same person
    moved = audit.entries(session=world, action="prospect.stage", user="m@example.com")[0]
    assert moved.detail["to"] == "activated"


def test_the_command_line_is_recorded_as_cli_with_the_os_user(world) -> None:
    from recruiter.outreach.pipeline import set_stage

    set_stage(community(world), "shortlisted", actor=CLI, session=world)
    world.rollback()
    entry = audit.entries(session=world, action="prospect.stage")[0]
    assert entry.actor == CLI.name and entry.actor.startswith("cli:") and entry.via == "cli"


# --- owners ----------------------------------------------------------------------------------------------

def test_whoever_shortlists_a_prospect_without_an_owner_owns_it(world) -> None:
    from recruiter.outreach.pipeline import set_feedback, set_owner, set_stage
    from recruiter.outreach.story import prospect_story

    member, admin = web(world, "m@example.com"), web(world, "a@example.com")
    set_feedback(community(world), "shortlist", actor=member, session=world)
    assert prospect_story(community(world), session=world).owner == "m@example.com"
    set_stage(community(world), "declined", actor=admin, session=world)
    set_stage(community(world), "shortlisted", actor=admin, session=world)  # it has an owner: it stays
    assert prospect_story(community(world), session=world).owner == "m@example.com"

    set_stage(community(world, BAKING), "shortlisted", actor=admin, session=world)  # by the stage too
    assert prospect_story(community(world, BAKING), session=world).owner == "a@example.com"
    set_stage(community(world, BLOG), "shortlisted", actor=CLI, session=world)  # the command line owns nothing
    assert prospect_story(community(world, BLOG), session=world).owner is None

    set_owner(community(world, BLOG), "v@example.com", actor=member, session=world)
    assert prospect_story(community(world, BLOG), session=world).public()["owner"] == "v@example.com"
    world.rollback()
    entry = audit.entries(session=world, action="prospect.owner")[0]
    assert (entry.actor, entry.target, entry.detail) == ("m@example.com", BLOG,
                                                         {"from": None, "to": "v@example.com"})


def test_the_mine_filters_and_my_follow_ups_first(world, db_url) -> None:
    from profiles.service import get_profile
    from recruiter.matching.matches import MatchFilters, match_page, rank_profile
    from recruiter.outreach.dashboard import board, follow_ups
    from recruiter.outreach.pipeline import list_prospects, schedule_follow_up, set_feedback

    member, admin = web(world, "m@example.com"), web(world, "a@example.com")
    member_id, admin_id = member.user_id, admin.user_id
    profile = get_profile("yoga", session=world)
    set_feedback(community(world), "shortlist", actor=member, session=world, profile_id=profile.id)
    set_feedback(community(world, BAKING), "shortlist", actor=admin, session=world, profile_id=profile.id)
    today = date.today()
    schedule_follow_up(community(world, BAKING), today, actor=admin, session=world)  # sooner, but not mine
    schedule_follow_up(community(world), today + timedelta(days=3), actor=member, session=world)

    mine = board(session=world, owner_id=member_id)
    assert [c.url for c in mine.columns["shortlisted"]] == [YOGA] and sum(mine.totals.values()) == 1
    assert mine.columns["shortlisted"][0].owner == "m@example.com"
    assert [c.url for _, c in list_prospects(session=world, owner_id=admin_id)] == [BAKING]

    rank_profile(profile.id, db_url=db_url)
    rows, total = match_page(profile.id, session=world, filters=MatchFilters(owner_id=member_id))
    assert (total, [r.url for r in rows], rows[0].owner) == (1, [YOGA], "m@example.com")

    everyone = [item.name for item in follow_ups(session=world)]
    assert everyone == ["r/Baking", "r/yoga"]  # soonest first
    assert [item.name for item in follow_ups(session=world, mine=member_id)] == ["r/yoga", "r/Baking"]


def test_owners_through_the_command_line(world, cli) -> None:
    set_owner = cli("prospect", "owner", YOGA, "M@example.com")
    assert set_owner.exit_code == 0 and set_owner.output.strip() == f"{YOGA}: owner m@example.com"
    cli("prospect", "set-stage", BAKING, "shortlisted")  # by the operator: nobody's
    listed = json.loads(cli("prospect", "list", "--owner", "m@example.com", "--format", "json").output)
    assert [(row["url"], row["owner"]) for row in listed] == [(YOGA, "m@example.com")]
    everyone = json.loads(cli("prospect", "list", "--format", "json").output)
    assert {row["url"]: row["owner"] for row in everyone} == {YOGA: "m@example.com", BAKING: None}
    assert json.loads(cli("prospect", "show", YOGA, "--format", "json").output)["owner"] == "m@example.com"
    unknown = cli("prospect", "owner", YOGA, "nobody@example.com")
    assert unknown.exit_code == 2 and "no user 'nobody@example.com'" in unknown.output
    assert cli("prospect", "owner", YOGA, "none").output.strip() == f"{YOGA}: owner none"
    world.rollback()
    moves = audit.entries(session=world, action="prospect.owner")
    assert [e.detail["to"] for e in moves] == [None, "m@example.com"] and moves[0].actor == CLI.name
