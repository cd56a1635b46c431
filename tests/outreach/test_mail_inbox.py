"""Reading the mailbox over a real IMAP server (dovecot on loopback): replies, bounces, opt-outs and automatic
answers, each read once; hostile messages never stop a sync."""

from __future__ import annotations

import imaplib
from datetime import timedelta

import pytest
from mail_helpers import ADDR, FROM, FROM_ADDR, IMAP_PASSWORD, A, B, C, day_d, dsn, reply, write_communities

from recruiter.accounts.roles import Actor


@pytest.fixture
def sent(session, tmp_path, monkeypatch, smtp_server, clean_inbox):
    """A, B and C enrolled in a two-step sequence, the first step sent; returns (session, Message-IDs by URL)."""
    from recruiter.catalogue.importing import import_files
    from recruiter.outreach.mail import send_due
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll

    monkeypatch.setenv("RECRUITER_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("RECRUITER_IMAP_URL", clean_inbox.url)
    monkeypatch.setenv("RECRUITER_FROM", FROM)
    import_files([write_communities(tmp_path)], actor=Actor.cli(), session=session)
    create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name} {unsubscribe}"),
                              StepSpec(3, "Following up", "Just checking in, {name}")], actor=Actor.cli(), session=session)
    enroll([A, B, C], actor=Actor.cli(), sequence="intro", session=session)
    assert send_due(actor=Actor.cli(), session=session, now=day_d()).count("sent") == 3
    ids = {url: smtp_server.to(ADDR[url])[0].message["Message-ID"] for url in (A, B, C)}
    return session, ids


def sync(session, **kwargs):
    from recruiter.outreach.mail import sync_inbox

    session.rollback()
    return sync_inbox(actor=Actor.cli(), session=session, now=day_d() + timedelta(days=1), **kwargs)


def rows(session) -> dict[str, object]:
    from recruiter.outreach.sequences import enrollment_rows

    session.rollback()
    return {r.url: r for r in enrollment_rows(session=session)}


def stage(session, url: str) -> str:
    from recruiter.outreach.pipeline import find_community, get_or_create_prospect

    session.rollback()
    return get_or_create_prospect(find_community(url, session=session), session=session).stage


def timeline(session, url: str) -> list[str]:
    from recruiter.outreach.pipeline import activities, find_community, get_or_create_prospect

    session.rollback()
    prospect = get_or_create_prospect(find_community(url, session=session), session=session)
    return [a.kind for a in activities(prospect, session=session)]


def test_reply_matched_by_sender_when_references_are_missing(sent, clean_inbox) -> None:
    session, _ids = sent
    clean_inbox.deliver(reply(sender=f"Charlie <{ADDR[C].upper()}>", subject="hey, about your note"))
    report = sync(session)
    assert report.count("reply") == 1 and report.outcomes[0].url == C
    assert rows(session)[C].state == "replied" and stage(session, C) == "replied"
    assert "reply" in timeline(session, C)


def test_sync_twice_changes_nothing_even_after_the_watermark_is_lost(sent, clean_inbox) -> None:
    from recruiter.core.db import set_setting
    from recruiter.outreach.mail.inbox import SYNC_STATE_KEY

    session, ids = sent
    clean_inbox.deliver(reply(sender=ADDR[A], in_reply_to=ids[A]))
    assert sync(session).count("reply") == 1
    assert sync(session).examined == 0
    set_setting(SYNC_STATE_KEY, {}, session=session)  # as after UIDVALIDITY changed: every message read again
    again = sync(session)
    assert again.examined == 1 and again.outcomes == [] and again.already_read == 1
    assert timeline(session, A).count("reply") == 1


def test_unsubscribe_mailto_and_replies_asking_out_opt_out(sent, clean_inbox, smtp_server) -> None:
    from recruiter.outreach.sequences import enroll, suppression

    session, ids = sent
    header = smtp_server.to(ADDR[A])[0].message["List-Unsubscribe"]
    subject = header.split("subject=")[1].split(">")[0].replace("%20", " ")
    clean_inbox.deliver(reply(sender="someone-else@alpha-yoga.example", subject=subject, body=""))
    clean_inbox.deliver(reply(sender=ADDR[B], in_reply_to=ids[B], subject="Re: Hello",
                              body="Please remove me from your list."))
    report = sync(session)
    assert report.count("opt-out") == 2
    assert rows(session)[A].state == "opted-out" and rows(session)[B].state == "opted-out"
    assert suppression(ADDR[A], session=session).reason == "opted-out"
    assert stage(session, B) == "declined" and "opted_out" in timeline(session, B)
    assert not enroll([A], actor=Actor.cli(), sequence="intro", session=session).enrolled


def test_quoted_unsubscribe_line_is_a_reply_not_an_opt_out(sent, clean_inbox, smtp_server) -> None:
    session, ids = sent
    ours = smtp_server.to(ADDR[C])[0].message.get_body(("plain",)).get_content()
    quoted = "\n".join("> " + line for line in ours.splitlines())
    body = f"Yes, let's talk! Send me the details.\n\nOn Monday, Ana wrote:\n{quoted}\n"
    clean_inbox.deliver(reply(sender=ADDR[C], in_reply_to=ids[C], body=body))
    report = sync(session)
    assert [o.kind for o in report.outcomes] == ["reply"]
    assert rows(session)[C].state == "replied"


def test_automatic_answer_is_noted_and_the_sequence_goes_on(sent, clean_inbox) -> None:
    session, ids = sent
    clean_inbox.deliver(reply(sender=ADDR[A], in_reply_to=ids[A], subject="Automatic reply: Hello Alpha Yoga",
                              body="I'm away until Monday.", headers={"Auto-Submitted": "auto-replied"}))
    report = sync(session)
    assert report.count("auto-reply") == 1
    assert rows(session)[A].state == "active" and "auto_reply" in timeline(session, A)


def test_bounce_by_final_recipient_without_the_original_message(sent, clean_inbox) -> None:
    from recruiter.outreach.sequences import suppression

    session, _ids = sent
    clean_inbox.deliver(dsn(recipient=ADDR[C], action="delayed", status="4.4.7"))
    assert sync(session).outcomes == []  # a delay is not a bounce
    clean_inbox.deliver(dsn(recipient=ADDR[C]))
    report = sync(session)
    assert report.count("bounce") == 1 and "5.1.1" in report.outcomes[0].detail
    assert rows(session)[C].state == "bounced" and suppression(ADDR[C], session=session).reason == "bounced"
    assert stage(session, C) == "contacted"  # a bounce says nothing about the community's interest


def test_hostile_and_unrelated_messages_never_stop_a_sync(sent, clean_inbox) -> None:
    session, ids = sent
    clean_inbox.deliver(b"\x00\xff\xfe garbage \r\n\r\n\x00")
    clean_inbox.deliver(b"From: =?utf-8?q?broken\r\nSubject: \xff\xfe\r\nContent-Type: multipart/mixed\r\n\r\nno parts")
    clean_inbox.deliver(reply(sender="stranger@elsewhere.example", subject="Newsletter"))
    clean_inbox.deliver(b"From: x@y.example\r\nSubject: big\r\n\r\n" + b"A" * 3_000_000)
    clean_inbox.deliver(reply(sender=FROM_ADDR, subject="copy of our own mail", to=ADDR[A]))
    clean_inbox.deliver(reply(sender=ADDR[A], in_reply_to=ids[A]))
    report = sync(session)
    assert report.examined == 6
    assert [(o.kind, o.url) for o in report.outcomes] == [("reply", A)]


def test_mailbox_is_read_only_and_passwords_stay_hidden(sent, clean_inbox, cli, monkeypatch) -> None:
    session, ids = sent
    clean_inbox.deliver(reply(sender=ADDR[A], in_reply_to=ids[A]))
    assert sync(session).count("reply") == 1
    imap = imaplib.IMAP4(clean_inbox.host, clean_inbox.port)
    imap.login("inbox", IMAP_PASSWORD)
    imap.select("INBOX", readonly=True)
    _typ, data = imap.search(None, "UNSEEN")
    imap.logout()
    assert len(data[0].split()) == 1  # still unread for the user
    monkeypatch.setenv("RECRUITER_IMAP_URL", clean_inbox.url.replace(IMAP_PASSWORD, "wrong-pass"))
    result = cli("outreach", "sync")
    assert result.exit_code == 2 and "login refused" in result.output and "wrong-pass" not in result.output
    monkeypatch.delenv("RECRUITER_IMAP_URL")
    assert "set RECRUITER_IMAP_URL" in cli("outreach", "sync").output


def test_two_syncs_at_once_act_on_a_message_once(sent, clean_inbox, db_url) -> None:
    import threading

    from recruiter.core.db import open_session
    from recruiter.outreach.mail import sync_inbox

    session, ids = sent
    clean_inbox.deliver(reply(sender=ADDR[A], in_reply_to=ids[A]))
    clean_inbox.deliver(dsn(recipient=ADDR[B], original_id=ids[B]))
    reports = []

    def run() -> None:
        with open_session(db_url) as own:
            reports.append(sync_inbox(actor=Actor.cli(), session=own, now=day_d() + timedelta(days=1)))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(reports) == 3
    assert sum(r.count("reply") for r in reports) == 1 and sum(r.count("bounce") for r in reports) == 1
    assert timeline(session, A).count("reply") == 1 and timeline(session, B).count("bounced") == 1


def test_unknown_mailbox_is_one_clear_line(sent, clean_inbox, cli, monkeypatch) -> None:
    monkeypatch.setenv("RECRUITER_IMAP_URL", clean_inbox.url.replace("/INBOX", "/Nope"))
    result = cli("outreach", "sync")
    assert result.exit_code == 2 and "cannot open mailbox 'Nope'" in result.output
    assert IMAP_PASSWORD not in result.output
