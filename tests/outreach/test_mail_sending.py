"""Sending sequence steps over a real SMTP server (aiosmtpd on loopback): never twice, within the cap and the window,
retried on 4xx, bounced on 5xx, held when a placeholder has no value, nothing lost when the server is away."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from mail_helpers import ADDR, FROM, SMTP_PASSWORD, A, B, C, day_d, iso, write_communities

from recruiter.accounts.roles import Actor


@pytest.fixture
def world(session, tmp_path, monkeypatch, smtp_server):
    """Three communities with an address enrolled in a two-step sequence; SMTP and From configured."""
    from profiles.service import save_profile
    from recruiter.catalogue.importing import import_files
    from recruiter.core.models import ProfileCreate
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll

    monkeypatch.setenv("RECRUITER_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("RECRUITER_FROM", FROM)
    for name in ("RECRUITER_SEND_WINDOW", "RECRUITER_MAX_PER_DAY", "RECRUITER_TIMEZONE", "RECRUITER_UNSUBSCRIBE_URL"):
        monkeypatch.delenv(name, raising=False)
    import_files([write_communities(tmp_path)], actor=Actor.cli(), session=session)
    save_profile(ProfileCreate(name="shop", description="Organic yoga mats"), actor=Actor.cli(), session=session)
    create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name} {unsubscribe}"),
                              StepSpec(3, "Following up", "Just checking in, {name}")], actor=Actor.cli(), session=session)
    report = enroll([A, B, C], actor=Actor.cli(), sequence="intro", profile="shop", session=session)
    assert len(report.enrolled) == 3
    return session


def send(session, **kwargs):
    from recruiter.outreach.mail import send_due

    return send_due(actor=Actor.cli(), session=session, **kwargs)


def states(session) -> dict[str, str]:
    from recruiter.outreach.sequences import enrollment_rows

    session.rollback()
    return {r.url: r.state for r in enrollment_rows(session=session)}


def test_daily_cap_leaves_the_rest_for_the_next_day(world, smtp_server) -> None:
    d = day_d()
    report = send(world, now=d, max_per_day=2)
    assert report.count("sent") == 2 and report.capped == 1
    assert "left for tomorrow (daily cap 2)" in report.summary()
    assert send(world, now=d + timedelta(hours=3), max_per_day=2).count("sent") == 0
    assert len(smtp_server.received) == 2
    assert send(world, now=d + timedelta(days=1), max_per_day=2).count("sent") == 1
    assert len({r.rcpt_tos[0] for r in smtp_server.received}) == 3


def test_sending_window_in_a_time_zone(world, smtp_server) -> None:
    evening = day_d().replace(hour=20)  # 20:00 UTC
    closed = send(world, now=evening, window="09:00-17:00")
    assert closed.window_closed and not smtp_server.received
    assert "outside the sending window" in closed.summary()
    assert send(world, now=evening, window="09:00-17:00", timezone="Asia/Tokyo").window_closed  # 05:00 there
    opened = send(world, now=evening, window="09:00-17:00", timezone="America/Los_Angeles")  # noon there
    assert opened.count("sent") == 3
    overnight = send(world, now=evening + timedelta(days=3), window="18:00-06:00")  # spans midnight
    assert overnight.count("sent") == 3


def test_transient_failure_is_retried_later_and_reported(world, smtp_server) -> None:
    from sqlmodel import select

    from recruiter.core.models import OutboundMessage

    smtp_server.refuse[ADDR[A]] = "451 4.7.1 Greylisted, try again later"
    d = day_d()
    report = send(world, now=d)
    assert report.count("sent") == 2 and report.count("retry") == 1 and report.problems
    [retry] = [o for o in report.outcomes if o.result == "retry"]
    assert retry.url == A and "451" in retry.detail and "next try" in retry.detail
    row = world.exec(select(OutboundMessage).where(OutboundMessage.to_addr == ADDR[A])).one()
    assert row.state == "due" and row.attempts == 1 and "451" in row.error
    assert send(world, now=d + timedelta(minutes=5)).outcomes == []  # backing off
    del smtp_server.refuse[ADDR[A]]
    assert send(world, now=d + timedelta(minutes=20)).count("sent") == 1
    assert len(smtp_server.to(ADDR[A])) == 1
    assert states(world)[A] == "active"


def test_permanent_recipient_failure_marks_the_address_bounced(world, smtp_server, tmp_path) -> None:
    from recruiter.outreach.sequences import enroll, suppression

    smtp_server.refuse[ADDR[B]] = "550 5.1.1 <bravo@bravo-bakes.example>: User unknown"
    report = send(world, now=day_d())
    assert report.count("bounced") == 1 and report.count("sent") == 2
    assert states(world)[B] == "bounced"
    assert suppression(ADDR[B], session=world).reason == "bounced"
    again = enroll([B], actor=Actor.cli(), sequence="intro", session=world)
    assert not again.enrolled and "bounced" in again.skipped[0].reason


def test_unfilled_placeholder_holds_the_step_until_it_has_a_value(session, tmp_path, monkeypatch, smtp_server) -> None:
    from recruiter.catalogue.importing import import_files
    from recruiter.core.db import set_setting
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll
    from recruiter.outreach.templates import REFERRAL_LINK_KEY

    monkeypatch.setenv("RECRUITER_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("RECRUITER_FROM", FROM)
    import_files([write_communities(tmp_path)], actor=Actor.cli(), session=session)
    create_sequence("links", [StepSpec(0, "For {name}", "Your link: {ref_link}")], actor=Actor.cli(), session=session)
    enroll([A], actor=Actor.cli(), sequence="links", session=session)
    held = send(session, now=day_d())
    assert held.count("held") == 1 and not smtp_server.received and held.problems
    assert "{ref_link}" in held.outcomes[0].detail and "step 1 of 'links'" in held.outcomes[0].detail
    set_setting(REFERRAL_LINK_KEY, "https://shop.example/?ref={code}", session=session)
    assert send(session, now=day_d()).count("sent") == 1
    body = smtp_server.received[0].message.get_body(("plain",)).get_content()
    assert "https://shop.example/?ref=alpha-yoga" in body


def test_server_away_stops_the_run_and_loses_nothing(world, smtp_server, cli, db_url, monkeypatch) -> None:
    from mail_helpers import free_port_url

    monkeypatch.setenv("RECRUITER_SMTP_URL", free_port_url())
    result = cli("outreach", "send", "--now", iso(day_d()))
    assert result.exit_code == 2 and "cannot connect" in result.output
    assert SMTP_PASSWORD not in result.output and "***" in result.output
    monkeypatch.setenv("RECRUITER_SMTP_URL", smtp_server.url.replace("s3cret", "wrong"))
    result = cli("outreach", "send", "--now", iso(day_d()))
    assert result.exit_code == 2 and "login refused" in result.output and "wrong" not in result.output
    monkeypatch.setenv("RECRUITER_SMTP_URL", smtp_server.url)
    result = cli("outreach", "send", "--now", iso(day_d()))
    assert result.exit_code == 0 and len(smtp_server.received) == 3


def test_dry_run_sends_and_changes_nothing(world, smtp_server, monkeypatch) -> None:
    monkeypatch.delenv("RECRUITER_SMTP_URL")
    report = send(world, now=day_d(), dry_run=True)
    assert report.count("would-send") == 3 and not smtp_server.received
    assert set(states(world).values()) == {"active"}


def test_missing_configuration_is_one_clear_line(world, cli, monkeypatch) -> None:
    monkeypatch.delenv("RECRUITER_SMTP_URL")
    result = cli("outreach", "send")
    assert result.exit_code == 2 and "set RECRUITER_SMTP_URL" in result.output
    monkeypatch.setenv("RECRUITER_SMTP_URL", "http://x:y@host")
    assert "must start with smtp://" in cli("outreach", "send").output
    monkeypatch.setenv("RECRUITER_SMTP_URL", "smtp://u:p@127.0.0.1:25")
    monkeypatch.setenv("RECRUITER_FROM", "not an address")
    assert "RECRUITER_FROM" in cli("outreach", "send").output
    bad = cli("outreach", "send", "--now", "tomorrow")
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    assert "HH:MM-HH:MM" in cli("outreach", "send", "--dry-run", "--window", "9-5").output


def test_first_message_never_goes_to_a_community_contacted_meanwhile(world, smtp_server) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    set_stage(find_community(A, session=world), "contacted", actor=Actor.cli(), session=world, note="called them")
    report = send(world, now=day_d())
    assert report.count("sent") == 2 and report.count("stopped") == 1
    assert "no double outreach" in [o for o in report.outcomes if o.url == A][0].detail
    assert not smtp_server.to(ADDR[A]) and states(world)[A] == "stopped"


def test_follow_up_stops_when_the_prospect_moved_on(world, smtp_server) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    d = day_d()
    assert send(world, now=d).count("sent") == 3
    set_stage(find_community(C, session=world), "negotiating", actor=Actor.cli(), session=world)
    report = send(world, now=d + timedelta(days=3))
    assert report.count("sent") == 2 and not [m for m in smtp_server.to(ADDR[C]) if "Following" in m.raw.decode()]
    assert states(world)[C] == "stopped"


def test_a_claim_left_by_a_killed_process_is_reported_not_resent(world, smtp_server) -> None:
    from sqlmodel import select

    from recruiter.core.models import OutboundMessage, utcnow

    row = world.exec(select(OutboundMessage).where(OutboundMessage.to_addr == ADDR[A])).one()
    row.state, row.claimed_at, row.attempts = "claimed", utcnow() - timedelta(hours=1), 1
    world.add(row)
    world.commit()
    report = send(world, now=day_d())
    [interrupted] = [o for o in report.outcomes if o.result == "interrupted"]
    assert interrupted.url == A and "Sent folder" in interrupted.detail
    assert report.count("sent") == 2 and not smtp_server.to(ADDR[A])


def test_overlapping_runs_in_threads_send_each_step_once(world, smtp_server, db_url) -> None:
    from recruiter.core.db import open_session
    from recruiter.outreach.mail import send_due

    smtp_server.data_delay = 0.05
    d = day_d()
    results = []

    def run() -> None:
        with open_session(db_url) as own:
            results.append(send_due(actor=Actor.cli(), session=own, now=d))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.count("sent") for r in results) == 3
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(ADDR[u] for u in (A, B, C))


@pytest.mark.slow
def test_two_processes_sending_at_once_send_each_step_once(session, tmp_path, smtp_server, db_url) -> None:
    """Two `recruiter outreach send` processes over one database: every message reaches the server once."""
    from recruiter.catalogue.importing import import_files
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll

    rows = [{"url": f"https://site{i}.example", "name": f"Site {i}", "emails": [f"owner{i}@site{i}.example"]}
            for i in range(12)]
    import_files([write_communities(tmp_path, rows)], actor=Actor.cli(), session=session)
    create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name}")], actor=Actor.cli(), session=session)
    assert len(enroll([r["url"] for r in rows], actor=Actor.cli(), sequence="intro", session=session).enrolled) == 12
    smtp_server.data_delay = 0.15  # each run takes a while: the two overlap
    env = {**os.environ, "RECRUITER_DB": db_url, "RECRUITER_SMTP_URL": smtp_server.url, "RECRUITER_FROM": FROM,
           "RECRUITER_MODEL": "hashing"}
    command = [sys.executable, "-c", "from recruiter.cli import run; run()", "outreach", "send", "--now",
               iso(day_d()), "--format", "json"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    recipients = [r.rcpt_tos[0] for r in smtp_server.received]
    assert sorted(recipients) == sorted(r["emails"][0] for r in rows)  # all twelve, none twice
    assert all(SMTP_PASSWORD not in out + err for out, err in outputs)


def test_each_email_sent_is_in_the_audit_log_and_a_viewer_sends_nothing(world, smtp_server) -> None:
    from recruiter.accounts import audit
    from recruiter.accounts.roles import NotAllowed
    from recruiter.outreach.mail import send_due

    viewer = Actor(name="v@example.com", role="viewer", via="web", ip="198.51.100.9")
    with pytest.raises(NotAllowed, match="a viewer cannot enrol or send emails"):
        send_due(actor=viewer, session=world, now=day_d())
    assert not smtp_server.received and set(states(world).values()) == {"active"}
    report = send(world, now=day_d())
    assert report.count("sent") == 3
    world.rollback()
    sent = audit.entries(session=world, action="email.sent")
    assert sorted(e.target for e in sent) == sorted([A, B, C])
    assert {e.actor for e in sent} == {Actor.cli().name}
    assert {e.detail["to"] for e in sent} == {ADDR[A], ADDR[B], ADDR[C]}
    assert all(e.detail["sequence"] == "intro" and e.detail["step"] == 1 for e in sent)
