"""Issue 14's acceptance, through the CLI, as a new user would: a fresh data dir, a real SMTP server (aiosmtpd) and a
real IMAP server (dovecot), both on loopback."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from mail_helpers import (
    ADDR,
    FROM,
    FROM_ADDR,
    SMTP_PASSWORD,
    SMTP_USER,
    A,
    B,
    C,
    D,
    day_d,
    dsn,
    iso,
    reply,
    write_communities,
)


@pytest.fixture
def mail_env(monkeypatch: pytest.MonkeyPatch, smtp_server, clean_inbox):
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")  # the ranking model plays no part here
    monkeypatch.setenv("RECRUITER_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("RECRUITER_IMAP_URL", clean_inbox.url)
    monkeypatch.setenv("RECRUITER_FROM", FROM)
    for name in ("RECRUITER_SEND_WINDOW", "RECRUITER_MAX_PER_DAY", "RECRUITER_TIMEZONE", "RECRUITER_UNSUBSCRIBE_URL"):
        monkeypatch.delenv(name, raising=False)
    return smtp_server, clean_inbox


def test_sequence_sends_follows_up_and_stops_on_reply_and_bounce(cli, tmp_path, mail_env) -> None:
    smtp, imap = mail_env
    assert cli("import", write_communities(tmp_path)).exit_code == 0
    assert cli("profile", "add", "--name", "shop", "--description", "Organic yoga mats and props").exit_code == 0
    added = cli("sequence", "add", "intro", "--step", "0|Hello {name}|Hi {name}, ... {unsubscribe}",
                "--step", "3|Following up|Just checking in, {name}")
    assert added.exit_code == 0, added.output

    enrolled = cli("outreach", "enroll", A, B, C, D, "--sequence", "intro", "--profile", "shop")
    assert enrolled.exit_code == 0, enrolled.output
    assert re.search(rf"skipped\s+{re.escape(D)}: no contact email", enrolled.output), enrolled.output
    assert enrolled.output.count("enrolled  ") == 3

    d = day_d()
    sent = cli("outreach", "send", "--now", iso(d))
    assert sent.exit_code == 0, sent.output
    assert len(smtp.received) == 3
    names = {A: "Alpha Yoga", B: "Bravo Bakes", C: "Charlie Runs"}
    first_ids = {}
    for url, name in names.items():
        [got] = smtp.to(ADDR[url])
        message = got.message
        assert message["Subject"] == f"Hello {name}"
        assert message["Message-ID"] and message["List-Unsubscribe"]
        assert "mailto:" + FROM_ADDR in message["List-Unsubscribe"]
        first_ids[url] = message["Message-ID"]
    assert len(set(first_ids.values())) == 3  # each message its own Message-ID

    again = cli("outreach", "send", "--now", iso(d))
    assert again.exit_code == 0, again.output
    assert len(smtp.received) == 3  # nothing twice
    listed = json.loads(cli("prospect", "list", "--format", "json").output)
    assert {p["url"]: p["stage"] for p in listed} == {A: "contacted", B: "contacted", C: "contacted"}

    imap.deliver(reply(sender=f"Alpha <{ADDR[A]}>", in_reply_to=first_ids[A], subject="Re: Hello Alpha Yoga"))
    imap.deliver(dsn(recipient=ADDR[B], original_id=first_ids[B]))
    synced = cli("outreach", "sync", "--now", iso(d + timedelta(days=1)))
    assert synced.exit_code == 0, synced.output
    assert "1 replies" in synced.output and "1 bounces" in synced.output, synced.output
    assert cli("outreach", "sync", "--now", iso(d + timedelta(days=1))).output.startswith("0 new message")

    follow = cli("outreach", "send", "--now", iso(d + timedelta(days=4)))
    assert follow.exit_code == 0, follow.output
    assert len(smtp.received) == 4
    last = smtp.received[-1]
    assert last.rcpt_tos == [ADDR[C]]
    assert last.message["Subject"] == "Following up"
    assert last.message["In-Reply-To"] == first_ids[C]  # threads onto the first step

    late = cli("outreach", "send", "--now", iso(d + timedelta(days=30)))
    assert late.exit_code == 0 and len(smtp.received) == 4

    status = json.loads(cli("outreach", "status", "--format", "json").output)
    by_url = {row["url"]: row for row in status}
    assert set(by_url) == {A, B, C}
    assert by_url[A]["state"] == "replied"
    assert by_url[B]["state"] == "bounced"
    assert by_url[C]["state"] == "finished" and by_url[C]["step"] == 2
    for row in status:
        assert set(row) >= {"url", "email", "sequence", "step", "state", "next_at"}
        assert row["sequence"] == "intro" and row["next_at"] is None
    listed = json.loads(cli("prospect", "list", "--format", "json").output)
    assert {p["url"]: p["stage"] for p in listed}[A] == "replied"

    for got in smtp.received:
        assert got.auth_user == SMTP_USER
        assert got.mail_from == FROM_ADDR
        assert got.message["From"].addresses[0].addr_spec == FROM_ADDR
        body = got.message.get_body(("plain",)).get_content()
        assert not re.search(r"\{[a-z_]+\}", got.message["Subject"] + body), body
        assert "unsubscribe" in body.lower()  # the line is there even when the step does not place it
    for output in (added.output, enrolled.output, sent.output, synced.output, follow.output):
        assert SMTP_PASSWORD not in output
