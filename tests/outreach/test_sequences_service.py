"""Sequences and enrolment as services and CLI commands (no mail server needed)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from mail_helpers import A, B, C, D, day_d, write_communities

from recruiter.accounts.roles import Actor


@pytest.fixture
def imported(session, tmp_path):
    from profiles.service import save_profile
    from recruiter.catalogue.importing import import_files
    from recruiter.core.models import ProfileCreate

    import_files([write_communities(tmp_path)], actor=Actor.cli(), session=session)
    save_profile(ProfileCreate(name="shop", description="Organic yoga mats"), actor=Actor.cli(), session=session)
    return session


def test_sequence_cli_add_show_list_update_delete(cli, imported) -> None:
    assert cli("sequence", "add", "intro", "--step", "0|Hello {name}|Hi {name},\\nwelcome | friend",
               "--step", "3|Again|Ping").exit_code == 0
    taken = cli("sequence", "add", "intro", "--step", "0|x|y")
    assert taken.exit_code == 2 and "exists" in taken.output
    shown = json.loads(cli("sequence", "show", "intro", "--format", "json").output)
    assert shown["steps"][0] == {"step": 1, "wait_days": 0, "subject": "Hello {name}",
                                 "body": "Hi {name},\nwelcome | friend"}
    assert "step 2, 3 day(s) after the previous step: Again" in cli("sequence", "show", "intro").output
    assert cli("outreach", "enroll", A, "--sequence", "intro", "--profile", "shop").exit_code == 0
    listed = json.loads(cli("sequence", "list", "--format", "json").output)
    assert listed[0]["name"] == "intro" and listed[0]["steps"] == 2 and listed[0]["active"] == 1
    refused = cli("sequence", "delete", "intro")
    assert refused.exit_code == 2 and "1 active enrollment" in refused.output and "--force" in refused.output
    assert cli("sequence", "update", "intro", "--rename", "welcome").exit_code == 0
    forced = cli("sequence", "delete", "welcome", "--force")
    assert forced.exit_code == 0 and "1 active enrollment(s) stopped" in forced.output
    status = json.loads(cli("outreach", "status", "--format", "json").output)
    assert status[0]["state"] == "stopped" and status[0]["sequence"] == "welcome"  # history kept
    assert "no sequence named 'nope'" in cli("sequence", "show", "nope").output


@pytest.mark.parametrize(("step", "message"), [
    ("Hello|Hi", "expected DAYS|SUBJECT|BODY"),
    ("x|Hello|Hi", "'x' is not a number of days"),
    ("-1|Hello|Hi", "wait must be 0 to 365 days"),
    ("0| |Hi", "step 1: the subject is empty"),
    ("0|Hello|  ", "step 1: the body is empty"),
    ("0|Hello {nmae}|Hi", "unknown placeholder {nmae}"),
])
def test_bad_steps_are_refused_naming_the_step(cli, step, message) -> None:
    result = cli("sequence", "add", "bad", "--step", step)
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_enrol_skips_and_names_what_cannot_be_enrolled(cli, imported) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    session = imported
    set_stage(find_community(B, session=session), "contacted", actor=Actor.cli(), session=session)
    set_stage(find_community(C, session=session), "declined", actor=Actor.cli(), session=session)
    cli("sequence", "add", "intro", "--step", "0|Hello {name}|Hi")
    result = cli("outreach", "enroll", A, B, C, D, "https://unknown.example", "--sequence", "intro",
                 "--profile", "shop")
    assert result.exit_code == 0
    assert f"{B}: contacted before" in result.output and "no double outreach" in result.output
    assert f"{C}: declined" in result.output
    assert f"{D}: no contact email" in result.output
    assert "https://unknown.example: no community with URL" in result.output
    again = cli("outreach", "enroll", A, "--sequence", "intro", "--profile", "shop")
    assert again.exit_code == 1 and "already in sequence 'intro'" in again.output
    assert "no sequence named" in cli("outreach", "enroll", A, "--sequence", "x", "--profile", "shop").output
    assert "no profile named" in cli("outreach", "enroll", A, "--sequence", "intro", "--profile", "x").output


def test_addresses_we_cannot_or_should_not_write_to(session) -> None:
    from recruiter.outreach.sequences import usable_email

    assert usable_email("mailto:Hello@Site.example?subject=x") == "Hello@Site.example"
    for bad in ("a@b", "no-reply@site.example", "a b@site.example", "x@site.example\r\nBcc: y@z.example",
                "<x@site.example>", "x@@site.example", "x..y@site.example", "", None):
        assert usable_email(bad) is None, bad


def test_one_active_enrollment_per_prospect_even_when_two_enrol_at_once(imported, db_url) -> None:
    import threading

    from recruiter.core.db import open_session
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll

    create_sequence("one", [StepSpec(0, "Hi", "Hi")], actor=Actor.cli(), session=imported)
    create_sequence("two", [StepSpec(0, "Hi", "Hi")], actor=Actor.cli(), session=imported)
    reports = []

    def run(name: str) -> None:
        with open_session(db_url) as own:
            reports.append(enroll([A], actor=Actor.cli(), sequence=name, session=own))

    threads = [threading.Thread(target=run, args=(n,)) for n in ("one", "two", "one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(len(r.enrolled) for r in reports) == 1


def test_editing_steps_retimes_waiting_enrollments(imported) -> None:
    from recruiter.outreach.sequences import StepSpec, create_sequence, due_steps, enroll, update_sequence

    create_sequence("intro", [StepSpec(2, "Hello {name}", "Hi")], actor=Actor.cli(), session=imported)
    enroll([A, B], actor=Actor.cli(), sequence="intro", session=imported)
    assert due_steps(session=imported, within_days=1) == []
    due = due_steps(session=imported, within_days=3)
    assert [d.url for d in due] == [A, B] and due[0].subject == "Hello {name}" and due[0].step == 1
    assert not due[0].overdue and due[0].to_dict()["due_at"].endswith("+00:00")
    update_sequence("intro", actor=Actor.cli(), steps=[StepSpec(0, "Now", "Hi")], session=imported)
    due = due_steps(session=imported, within_days=0, now=day_d())
    assert [d.subject for d in due] == ["Now", "Now"] and all(d.overdue for d in due)


def test_status_filters_and_csv(cli, imported) -> None:
    cli("sequence", "add", "intro", "--step", "0|Hello {name}|Hi")
    cli("outreach", "enroll", A, B, "--sequence", "intro", "--profile", "shop")
    csv_out = cli("outreach", "status", "--format", "csv").output.splitlines()
    assert csv_out[0] == "url,email,sequence,step,state,next_at,reason" and len(csv_out) == 3
    assert json.loads(cli("outreach", "status", "--state", "replied", "--format", "json").output) == []
    assert cli("outreach", "status", "--state", "nope").exit_code == 2


def test_prospect_outreach_read_model(imported) -> None:
    from recruiter.outreach.pipeline import find_community, get_or_create_prospect
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll, prospect_outreach

    create_sequence("intro", [StepSpec(1, "Hello {name}", "Hi")], actor=Actor.cli(), session=imported)
    enroll([A], actor=Actor.cli(), sequence="intro", session=imported, now=day_d() - timedelta(days=2))
    prospect = get_or_create_prospect(find_community(A, session=imported), session=imported)
    view = prospect_outreach(prospect.id, session=imported)
    assert view.email == "hello@alpha-yoga.example" and view.sequences == ["intro"]
    assert view.enrollments[0].state == "active" and view.messages[0].state == "due"
    empty = prospect_outreach(get_or_create_prospect(find_community(D, session=imported), session=imported).id,
                              session=imported)
    assert empty.email is None and empty.enrollments == [] and empty.messages == []


def test_the_dashboards_follow_ups_include_sequence_steps_due(cli, imported) -> None:
    from recruiter.outreach.dashboard import follow_ups

    assert cli("sequence", "add", "intro", "--step", "0|Hello {name}|Hi {name}", "--step", "3|Again|Ping").exit_code == 0
    assert cli("outreach", "enroll", A, B, "--sequence", "intro", "--profile", "shop").exit_code == 0
    imported.expire_all()
    listed = [f for f in follow_ups(session=imported) if f.source == "sequence"]
    assert len(listed) == 2 and all(f.detail.startswith("intro, step 1") for f in listed)
