"""The parts that need a real Redis: the shared per-host gate, bounded retries of a failing task, and a job
that still finishes when Redis restarts having lost its queue."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from cluster import SiteFarm, Worker, cli

from recruiter.accounts.roles import Actor
from scrapers.config import ScrapeSettings
from scrapers.http import PoliteClient
from scrapers.loopback import LoopbackServer, send

pytestmark = pytest.mark.redis


def test_two_clients_sharing_a_redis_gate_space_their_requests(redis_url, tmp_path) -> None:
    """Two 'workers' (each its own client and gate) crawling one site: 0.3 s apart all together."""
    from recruiter.tasks.limiter import RedisHostGate

    times: list[float] = []

    def page(request) -> None:
        times.append(time.monotonic())
        send(request, 200, "<html><title>x</title></html>")

    async def crawl(server: LoopbackServer) -> None:
        settings = ScrapeSettings(per_host_delay=0.3, obey_robots=False, use_cache=False)
        gates = [RedisHostGate(redis_url), RedisHostGate(redis_url)]
        clients = [PoliteClient(settings, gate=gate) for gate in gates]
        try:
            await asyncio.gather(*(clients[n % 2].get(server.url(f"/p{n}")) for n in range(8)))
        finally:
            for client, gate in zip(clients, gates, strict=True):
                await client.aclose()
                await gate.aclose()

    with LoopbackServer({f"/p{n}": page for n in range(8)}) as server:
        asyncio.run(crawl(server))
    times.sort()
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 8 and min(gaps) >= 0.28, gaps


def test_robots_txt_is_fetched_once_for_all_clients_of_a_gate(redis_url) -> None:
    from recruiter.tasks.limiter import RedisHostGate

    robots: list[float] = []

    def robots_txt(request) -> None:
        robots.append(time.monotonic())
        send(request, 200, "User-agent: *\nDisallow: /private\nCrawl-delay: 0.2\n", "text/plain")

    async def crawl(server: LoopbackServer) -> list[bool]:
        settings = ScrapeSettings(per_host_delay=0.0, use_cache=False)
        allowed = []
        for path in ("/a", "/private/b", "/c"):  # three "workers", one after the other
            gate = RedisHostGate(redis_url)
            async with PoliteClient(settings, gate=gate) as client:
                allowed.append(await client.allowed_by_robots(server.url(path)))
            await gate.aclose()
        return allowed

    with LoopbackServer({"/robots.txt": robots_txt}) as server:
        assert asyncio.run(crawl(server)) == [True, False, True]
    assert len(robots) == 1


def test_an_unreachable_gate_is_the_clusters_failure_not_the_urls() -> None:
    from servers import free_port

    from recruiter.tasks.limiter import GateUnavailable, RedisHostGate

    async def ask() -> None:
        gate = RedisHostGate(f"redis://127.0.0.1:{free_port()}/0")
        try:
            with pytest.raises(GateUnavailable, match="limiter"):
                await gate.enter("http://a.test:80", 0.1)
        finally:
            await gate.aclose()
        assert isinstance(gate.take_error(), GateUnavailable) and gate.take_error() is None

    asyncio.run(ask())


def test_a_task_that_keeps_failing_ends_failed_with_its_reason(redis_url, tmp_path, monkeypatch) -> None:
    from celery.contrib.testing.worker import start_worker

    import recruiter.tasks.app as tasks_app
    import recruiter.tasks.work as work
    from recruiter.core.db import open_session
    from recruiter.core.jobs import job_view
    from recruiter.tasks.submit import dispatch, submit_scrape

    monkeypatch.setenv("RECRUITER_DB", f"sqlite:///{tmp_path / 'r.db'}")
    monkeypatch.setenv("RECRUITER_BROKER", redis_url)
    monkeypatch.setattr(tasks_app, "RETRY_BASE_SECONDS", 0.05)
    monkeypatch.setitem(tasks_app._process, "runtime", work.Runtime(worker="t1"))
    calls: list[str] = []

    async def broken(job_id, key, rt):
        calls.append(key)
        raise RuntimeError("the database said no")

    monkeypatch.setattr(work, "run_item", broken)
    monkeypatch.setattr(tasks_app.app.conf, "broker_url", redis_url)
    with start_worker(tasks_app.app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with open_session() as session:
            job_id = submit_scrape(["https://one.example/"], actor=Actor.cli(), session=session).id
            dispatch(job_id, session=session)
        deadline = time.monotonic() + 60
        while True:
            with open_session() as session:
                view = job_view(job_id, session=session)
            if view.finished or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert view.state == "failed" and len(calls) == tasks_app.MAX_RETRIES + 1
    assert "RuntimeError: the database said no (after 4 attempts)" in view.failures[0].error


def _done(db_url: str, job_id: int) -> int:
    from recruiter.core.db import open_session
    from recruiter.core.jobs import job_view

    with open_session(db_url) as session:
        return job_view(job_id, session=session, failures=0).done


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_job_finishes_when_redis_restarts_without_its_queue(tmp_path, postgres_url) -> None:
    """Redis killed and started again empty mid-job: the workers reconnect and the watchdog re-sends the
    pending items from the database."""
    from servers import RedisServer

    redis = RedisServer().start()
    env = dict(os.environ, RECRUITER_HOME=str(tmp_path / "home"), RECRUITER_DB=postgres_url,
               RECRUITER_BROKER=redis.url, RECRUITER_MODEL="hashing", RECRUITER_ALLOW_PRIVATE="*",
               RECRUITER_JOB_STALL_SECONDS="8")
    farm = SiteFarm(hosts=2, pages=15)  # at least 15 s of politeness: Redis goes away mid-job
    worker = Worker("w1", 2, env, tmp_path)
    try:
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(farm.urls()) + "\n")
        queued = cli(["scrape", "--save", "--queue", "--delay", "1", "--file", str(urls), "--format", "json"], env)
        assert queued.returncode == 0, queued.stderr
        job_id = json.loads(queued.stdout)["job"]
        deadline = time.monotonic() + 120
        while _done(postgres_url, job_id) < 3:
            assert time.monotonic() < deadline, (tmp_path / "w1.log").read_text()[-3000:]
            time.sleep(0.1)
        assert _done(postgres_url, job_id) < 25
        redis.stop(kill=True)
        for leftover in redis.folder.iterdir():  # a Redis that comes back with nothing
            if leftover.is_dir():
                for f in leftover.iterdir():
                    f.unlink()
            elif leftover.name != "redis.log":
                leftover.unlink()
        time.sleep(2)
        redis.start()
        waited = cli(["job", "wait", str(job_id), "--timeout", "400", "--format", "json"], env, timeout=500)
        assert waited.returncode == 0, waited.stdout + waited.stderr + (tmp_path / "w1.log").read_text()[-3000:]
        shown = json.loads(waited.stdout)
        assert (shown["done"], shown["failed"], shown["total"]) == (30, 0, 30)
        assert "made no progress" in (tmp_path / "w1.log").read_text()  # the watchdog re-sent the lost items
    finally:
        worker.stop()
        farm.close()
        redis.close()
