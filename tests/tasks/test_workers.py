"""Issue 13's acceptance, as a user runs it: PostgreSQL and Redis in temp dirs, `recruiter worker` processes,
40 loopback sites × 10 pages, a worker killed with SIGKILL halfway, and the job still finishing whole."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from cluster import SiteFarm, Worker, cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(1200)]


def _job(db_url: str, job_id: int):
    from recruiter.core.db import open_session
    from recruiter.core.jobs import job_view

    with open_session(db_url) as session:
        return job_view(job_id, session=session, failures=10)


def test_cluster_scrape_survives_a_killed_worker(tmp_path, postgres_url, redis_url) -> None:
    env = dict(os.environ, RECRUITER_HOME=str(tmp_path / "home"), RECRUITER_DB=postgres_url,
               RECRUITER_BROKER=redis_url, RECRUITER_MODEL="hashing", RECRUITER_ALLOW_PRIVATE="*")
    os.makedirs(env["RECRUITER_HOME"], exist_ok=True)
    farm = SiteFarm(hosts=40, pages=10)
    workers = [Worker("w1", 4, env, tmp_path), Worker("w2", 4, env, tmp_path)]
    try:
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(farm.urls()) + "\n")
        queued = cli(["scrape", "--save", "--queue", "--delay", "0.5", "--file", str(urls), "--format", "json"], env)
        assert queued.returncode == 0, queued.stderr
        job_id = json.loads(queued.stdout)["job"]
        assert _job(postgres_url, job_id).done < 400  # it returned without waiting for the work

        deadline = time.monotonic() + 300
        while _job(postgres_url, job_id).done < 60:
            assert time.monotonic() < deadline, "workers did not get going: " + (tmp_path / "w1.log").read_text()
            time.sleep(0.2)
        workers[0].kill()
        workers.append(Worker("w3", 4, env, tmp_path))

        waited = cli(["job", "wait", str(job_id), "--timeout", "600"], env, timeout=700)
        assert waited.returncode == 0, waited.stdout + waited.stderr

        shown = json.loads(cli(["job", "show", str(job_id), "--format", "json"], env).stdout)
        assert (shown["state"], shown["total"], shown["done"], shown["failed"]) == ("done", 400, 400, 0)
        assert len([name for name, count in shown["workers"].items() if count > 0]) >= 2, shown["workers"]

        exported = json.loads(cli(["export", "--format", "json"], env).stdout)
        assert len(exported) == 400 and len({row["url"] for row in exported}) == 400

        status = cli(["index", "status"], env).stdout
        assert "400 communities; index: 400 vectors" in status and "in sync" in status, status
        rebuilt = cli(["index", "rebuild"], env).stdout
        assert "400 communities, 0 embedded" in rebuilt, rebuilt  # the workers embedded everything

        assert farm.min_gap() >= 0.45, f"two requests to one site {farm.min_gap():.3f} s apart"
        assert all(len(times) >= 10 for times in farm.page_times().values())

        # An import queued the same way: rows checked here (bad ones reported at once), saved and embedded there.
        imported = cli(["import", "--queue", str(FIXTURES / "communities.csv"), "--format", "json"], env)
        assert imported.returncode == 0 and "line 3:" in imported.stderr, imported.stderr
        import_job = json.loads(imported.stdout)["job"]
        assert cli(["job", "wait", str(import_job), "--timeout", "300"], env, timeout=400).returncode == 0
        assert json.loads(cli(["job", "show", str(import_job), "--format", "json"], env).stdout)["done"] == 4
        assert len(json.loads(cli(["export", "--format", "json"], env).stdout)) == 404
        assert "0 embedded" in cli(["index", "rebuild"], env).stdout
    finally:
        for worker in workers:
            worker.stop()
        farm.close()
