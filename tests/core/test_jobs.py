"""The Job service under duplicate delivery and failures, the schema step that added it, and the job CLI
without a broker (the embedded default)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from recruiter.accounts.roles import Actor
from recruiter.core.jobs import (
    MAX_ATTEMPTS,
    NewItem,
    claim_item,
    complete_item,
    create_job,
    job_view,
    retry_failed,
    settle_job,
)
from recruiter.core.models import Job, JobItem
from scrapers.loopback import LoopbackServer, send


def _items(*keys: str) -> list[NewItem]:
    return [NewItem(key=k, kind="url", input={"url": k}) for k in keys]


def test_duplicate_keys_and_deliveries_count_once(memory_session: Session) -> None:
    job = create_job("scrape", session=memory_session, state="queued", items=_items("a", "b", "a", "c"))
    assert job.total == 3
    assert claim_item(job.id, "a", session=memory_session, worker="w1") is not None
    assert memory_session.get(Job, job.id).state == "running"
    assert complete_item(job.id, "a", session=memory_session, worker="w1") is True
    assert complete_item(job.id, "a", session=memory_session, worker="w3") is False  # redelivered: no count
    assert claim_item(job.id, "a", session=memory_session, worker="w3") is None  # finished items are skipped
    complete_item(job.id, "b", session=memory_session, worker="w2", error="HTTP 404 Not Found")
    assert settle_job(job.id, session=memory_session) is None  # "c" is still pending
    complete_item(job.id, "c", session=memory_session, worker="w2")
    settled = settle_job(job.id, session=memory_session)
    assert settled is not None and settle_job(job.id, session=memory_session) is None  # settles once
    view = job_view(job.id, session=memory_session)
    assert (view.state, view.done, view.failed, view.total) == ("partial", 2, 1, 3)
    assert view.workers == {"w1": 1, "w2": 2}
    assert [(f.key, f.error) for f in view.failures] == [("b", "HTTP 404 Not Found")]
    shown = view.as_dict()
    assert {"id", "kind", "state", "total", "done", "failed", "workers"} <= set(shown)
    assert shown["failures"] == [{"item": "b", "error": "HTTP 404 Not Found", "url": "b"}]


def test_all_failed_is_failed_and_retry_runs_only_the_failures(memory_session: Session) -> None:
    job = create_job("scrape", session=memory_session, state="queued", items=_items("a", "b"))
    complete_item(job.id, "a", session=memory_session, error="timed out")
    complete_item(job.id, "b", session=memory_session, error="HTTP 500")
    settle_job(job.id, session=memory_session)
    view = job_view(job.id, session=memory_session)
    assert view.state == "failed" and "2 items failed" in view.error
    again = retry_failed(job.id, session=memory_session)
    assert [i.key for i in again] == ["a", "b"] and all(i.state == "pending" for i in again)
    view = job_view(job.id, session=memory_session)
    assert (view.state, view.failed, view.finished_at) == ("queued", 0, None)
    complete_item(job.id, "a", session=memory_session)
    complete_item(job.id, "b", session=memory_session)
    settle_job(job.id, session=memory_session)
    assert job_view(job.id, session=memory_session).state == "done"
    with pytest.raises(Exception, match="no failed items"):
        retry_failed(job.id, session=memory_session)


def test_an_item_that_keeps_killing_its_worker_is_given_up(memory_session: Session) -> None:
    job = create_job("scrape", session=memory_session, state="queued", items=_items("poison"))
    for _ in range(MAX_ATTEMPTS):
        assert claim_item(job.id, "poison", session=memory_session, worker="w1") is not None  # then "dies"
    assert claim_item(job.id, "poison", session=memory_session, worker="w2") is None
    item = memory_session.exec(select(JobItem)).one()
    assert item.state == "failed" and f"gave up after {MAX_ATTEMPTS} attempts" in item.error


def test_schema_1_database_gets_the_job_columns(tmp_path) -> None:
    import sqlite3

    from recruiter.core.db import SCHEMA_VERSION, init_db, make_engine

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the shape a recruiter of schema 1 left behind
        conn.execute("CREATE TABLE setting (key VARCHAR(100) PRIMARY KEY, value JSON)")
        conn.execute("INSERT INTO setting VALUES ('schema_version', '1')")
        conn.execute("CREATE TABLE job (id INTEGER PRIMARY KEY, kind VARCHAR(40) NOT NULL, state VARCHAR(20) NOT NULL,"
                     " progress FLOAT NOT NULL, total INTEGER NOT NULL, done INTEGER NOT NULL, params JSON NOT NULL,"
                     " cursor JSON NOT NULL, result JSON NOT NULL, error VARCHAR, created_at DATETIME NOT NULL,"
                     " updated_at DATETIME NOT NULL)")
        conn.execute("INSERT INTO job VALUES (1, 'discover', 'done', 1.0, 3, 3, '{}', '{}', '{}', NULL, "
                     "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    init_db(engine)  # idempotent
    with Session(engine) as session:
        view = job_view(1, session=session)
        assert (view.state, view.done, view.failed) == ("done", 3, 0)
        from recruiter.core.db import get_setting

        assert get_setting("schema_version", session=session) == SCHEMA_VERSION
    engine.dispose()


# --- the CLI without a broker ------------------------------------------------------------------------

def _site():
    page = "<html><head><title>Trail Notes {n}</title></head><body>Trail running notes {n}</body></html>"
    return LoopbackServer({f"/p{n}": (lambda r, n=n: send(r, 200, page.format(n=n))) for n in range(3)})


def test_queue_without_a_broker_says_what_to_set(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("RECRUITER_BROKER", raising=False)
    urls = tmp_path / "urls.txt"
    urls.write_text("https://example.com/\n")
    result = cli("scrape", "--save", "--queue", "--file", urls, "--format", "json")
    assert result.exit_code == 2 and "RECRUITER_BROKER" in result.output
    assert cli("scrape", "--queue", "--file", urls).exit_code != 0  # --queue needs --save
    assert cli("import", "--queue", urls).exit_code == 2


def test_url_file_job_show_wait_and_retry_in_process(cli, tmp_path, monkeypatch) -> None:
    from recruiter.core.db import open_session
    from recruiter.tasks.submit import run_inline, submit_scrape

    monkeypatch.delenv("RECRUITER_BROKER", raising=False)
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "*")
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    with _site() as server:
        urls = tmp_path / "urls.txt"
        urls.write_text(f"# my list\n{server.url('/p0')}\n\n{server.url('/p1')}\n{server.url('/missing')}\n")
        scraped = cli("scrape", "--file", urls, "--delay", "0", "--format", "json")
        assert scraped.exit_code == 1 and [r["ok"] for r in json.loads(scraped.stdout)] == [True, True, False]

        with open_session() as session:
            job_id = submit_scrape([server.url("/p0"), server.url("/p1"), server.url("/missing"),
                                    server.url("/p1/")], actor=Actor.cli(), session=session, delay=0).id
        assert json.loads(cli("job", "show", job_id, "--format", "json").stdout)["state"] == "queued"
        assert cli("job", "wait", job_id, "--timeout", "0.3").exit_code == 124
        run_inline(job_id)
        shown = json.loads(cli("job", "show", job_id, "--format", "json").stdout)
        assert (shown["state"], shown["total"], shown["done"], shown["failed"]) == ("partial", 3, 2, 1)
        assert shown["failures"][0]["url"] == server.url("/missing") and "404" in shown["failures"][0]["error"]
        assert cli("job", "wait", job_id, "--timeout", "5").exit_code == 1
        assert f"{job_id}  scrape" in cli("job", "list").stdout.replace("   ", "  ")

        server.routes["/missing"] = server.routes["/p2"]
        retried = cli("job", "retry", job_id, "--format", "json")
        assert retried.exit_code == 0, retried.output
        assert json.loads(retried.stdout)["state"] == "done"
        assert cli("job", "wait", job_id, "--timeout", "5").exit_code == 0
        assert cli("job", "retry", job_id).exit_code == 2  # nothing left to retry
    assert len(json.loads(cli("export", "--format", "json").stdout)) == 3
    assert "in sync" in cli("index", "status").stdout


def test_job_commands_refuse_unknown_ids_in_one_line(cli) -> None:
    result = cli("job", "show", "999")
    assert result.exit_code == 2 and "no job with id 999" in result.output

