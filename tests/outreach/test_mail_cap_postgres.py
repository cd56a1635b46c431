"""The daily cap holds on PostgreSQL when two `send` runs claim at the same moment.

The claim is one `UPDATE ... WHERE state = 'due' AND (sent + claimed today) < cap`. On SQLite writers queue on the
database lock, so the count is always current. Under PostgreSQL's READ COMMITTED two transactions claiming
*different* messages do not block each other and can both count below the cap; the claim therefore takes a
transaction-level advisory lock first. This test holds that lock in one session (a claim in flight, not yet
committed) and shows that a second run's claim waits for it and then sees the cap reached."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from mail_helpers import A, B, C, day_d, write_communities

from recruiter.accounts.roles import Actor

pytestmark = pytest.mark.postgres


def test_two_runs_never_both_take_the_last_slot(postgres_url, tmp_path, monkeypatch) -> None:
    from sqlalchemy import update
    from sqlmodel import Session, select

    from profiles.service import save_profile
    from recruiter.catalogue.importing import import_files
    from recruiter.core.db import get_engine, lock_for_transaction
    from recruiter.core.models import OutboundMessage, ProfileCreate
    from recruiter.outreach.mail.sending import _claim
    from recruiter.outreach.sequences import StepSpec, create_sequence, enroll

    monkeypatch.setenv("RECRUITER_DB", postgres_url)
    engine = get_engine(postgres_url)
    with Session(engine) as setup:
        import_files([write_communities(tmp_path)], actor=Actor.cli(), session=setup)
        save_profile(ProfileCreate(name="shop", description="Organic yoga mats"), actor=Actor.cli(), session=setup)
        create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name} {unsubscribe}")], actor=Actor.cli(), session=setup)
        assert len(enroll([A, B, C], actor=Actor.cli(), sequence="intro", profile="shop", session=setup).enrolled) == 3
        ids = sorted(m.id for m in setup.exec(select(OutboundMessage)).all())
    d = day_d()
    start = d.replace(hour=0)
    day = (start, start + timedelta(days=1))

    first = Session(engine)
    lock_for_transaction("outreach-send-cap", session=first)  # run 1 is claiming ids[0]: lock held, not committed
    table = OutboundMessage.__table__
    first.exec(update(table).where(table.c.id == ids[0]).values(state="claimed", claim_id="run-1"))

    result: dict[str, object] = {}

    def second_run() -> None:
        with Session(engine) as other:
            result["claim"] = _claim(ids[1], cap=1, day_start=day[0], day_end=day[1], session=other)

    thread = threading.Thread(target=second_run)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second claim did not wait for the first run's transaction"
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert result["claim"] is None  # the cap of 1 is taken by run 1's claim
    with Session(engine) as check:
        states = {m.id: m.state for m in check.exec(select(OutboundMessage)).all()}
    assert states == {ids[0]: "claimed", ids[1]: "due", ids[2]: "due"}
