"""The Celery app: what survives a killed worker, a restarted Redis, and a task that keeps failing.

Settings (and their trade-off; README "Running on several machines"):
- `task_acks_late` + `task_reject_on_worker_lost`: a message is acknowledged only after its item is
  finished, so a worker killed mid-task (SIGKILL, a lost machine) leaves it unacknowledged and it runs again
  elsewhere. The price is at-least-once delivery: items are idempotent (`recruiter.tasks.work`).
- `worker_prefetch_multiplier = 1`: a process reserves one message at a time, so a dead worker strands at
  most `concurrency` messages and a busy one does not hoard work others could do.
- `visibility_timeout` 90 s (kombu's default is an hour) with `unacked_restore_interval` 5 s and
  `unacked_restore_throttle` 2: an unacknowledged message is handed to another worker about 100 s after its
  worker vanished. Any task running longer than the visibility timeout would be delivered twice while still
  running, so items are small (one URL, 100 import rows) and the HTTP layer's total timeout is 20 s.
- Bounded retries: a task that raises is retried 3 times with backoff, then its item is failed with the
  reason; an item whose task keeps killing its worker is failed after `MAX_ATTEMPTS` starts.
- The model is loaded once per worker process (`worker_process_init`), not inside the first task.
- A watchdog thread in each worker re-sends the pending items of a job that made no progress for
  `RECRUITER_JOB_STALL_SECONDS` (180 s) while the queue is empty: messages lost with a Redis that restarted
  without its data are recovered from the database, which is the truth.

`add_periodic` is the hook for beat schedules (e.g. outreach send/sync); `recruiter worker --beat` runs the
scheduler inside one worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown

from recruiter.core.config import recruiter_home
from recruiter.core.db import dispose_engines, open_session
from recruiter.core.errors import NotFound, RecruiterError
from recruiter.core.jobs import get_job, pending_items, stalled_jobs, touch_if_idle

log = logging.getLogger(__name__)

BROKER_ENV = "RECRUITER_BROKER"
QUEUE = "recruiter"
BROKER_MARK = "sent_to_workers"  # in a job's cursor: its items went through the broker (jobs run in-process never)
VISIBILITY_TIMEOUT = 90
MAX_RETRIES = 3
RETRY_BASE_SECONDS = 2.0  # backoff of a retried task: 2, 4, 8 s (kept well under the visibility timeout)
CLIENTS_PER_PROCESS = 4


def broker_url() -> str | None:
    """The Celery broker (`RECRUITER_BROKER`), or None: then everything runs in-process."""
    return (os.environ.get(BROKER_ENV) or "").strip() or None


def stall_seconds() -> float:
    return float(os.environ.get("RECRUITER_JOB_STALL_SECONDS") or 180)


def worker_name() -> str:
    return os.environ.get("RECRUITER_WORKER_NAME") or socket.gethostname()


app = Celery("recruiter", set_as_current=False)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_acks_on_failure_or_timeout=True,
    worker_prefetch_multiplier=1,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    worker_proc_alive_timeout=180,  # a child loads the embedding model before it reports alive
    task_default_queue=QUEUE,
    task_ignore_result=True,  # results live in the job rows
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,  # a restarting Redis is waited for, not a reason to exit
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 2,
        "socket_timeout": 30,
        "socket_connect_timeout": 10,
        "health_check_interval": 10,
    },
    beat_schedule={},
    worker_hijack_root_logger=False,
)


def add_periodic(name: str, task: str, every_seconds: float, *, args: tuple = (), kwargs: dict | None = None) -> None:
    """Register a periodic task (run by the worker started with `--beat`): the hook for schedules such as
    outreach send/sync. `task` is a registered Celery task name."""
    app.conf.beat_schedule[name] = {"task": task, "schedule": float(every_seconds), "args": args,
                                    "kwargs": kwargs or {}}


# --- the item task (the work modules load on first use: the CLI sending a job needs none of them) ---------------------------------------------------------------------------------------

_process: dict[str, Any] = {}


def _loop() -> asyncio.AbstractEventLoop:
    """One event loop per worker process: the polite clients (and their robots.txt) live across tasks."""
    loop = _process.get("loop")
    if loop is None or loop.is_closed():
        loop = _process["loop"] = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def _runtime():
    from recruiter.tasks.work import Runtime

    rt = _process.get("runtime")
    if rt is None:
        url = broker_url()
        gate = None
        if url and url.startswith(("redis://", "rediss://", "unix://")):
            from recruiter.tasks.limiter import RedisHostGate

            gate = RedisHostGate(url)
        rt = _process["runtime"] = Runtime(worker=worker_name(), embed_each=True,
                                           gate_factory=(lambda: gate) if gate else None)
    return rt


@app.task(name="recruiter.item", bind=True, max_retries=MAX_RETRIES)
def item_task(self, job_id: int, key: str) -> None:
    """Run item `key` of job `job_id` (a no-op when it is already finished), then schedule what it found."""
    from recruiter.tasks.work import fail_item, finalize_job, run_item

    rt = _runtime()
    loop = _loop()
    try:
        if len(rt._clients) > CLIENTS_PER_PROCESS:
            loop.run_until_complete(rt.close_clients(keep={job_id}))
        added = loop.run_until_complete(run_item(job_id, key, rt))
    except NotFound:
        log.warning("job %s or its item %r no longer exists; message dropped", job_id, key)
        return
    except Exception as exc:
        if self.request.retries < MAX_RETRIES:
            log.warning("item %s of job %s failed (%s); retrying", key, job_id, exc)
            raise self.retry(exc=exc, countdown=min(30.0, RETRY_BASE_SECONDS * 2 ** self.request.retries)) from exc
        fail_item(job_id, key, f"{type(exc).__name__}: {exc} (after {MAX_RETRIES + 1} attempts)", worker=rt.worker)
        added = []
    if added:
        enqueue(job_id, added)
    finalize_job(job_id)


def enqueue(job_id: int, keys: list[str], *, url: str | None = None) -> None:
    """Send one message per item (over one connection); raises RecruiterError when the broker is unreachable."""
    url = url or broker_url()
    if not url:
        raise RecruiterError(f"no broker: set {BROKER_ENV} (e.g. redis://127.0.0.1:6379/0) to queue jobs")
    try:
        with app.connection_for_write(url) as connection, app.amqp.Producer(connection) as producer:
            for key in keys:
                item_task.apply_async((job_id, key), producer=producer, queue=QUEUE,
                                      retry=True, retry_policy={"max_retries": 3, "interval_start": 0.5,
                                                                "interval_step": 1, "interval_max": 3})
    except Exception as exc:
        if isinstance(exc, RecruiterError):
            raise
        raise RecruiterError(f"cannot reach the broker {_redact(url)}: {exc}") from exc


def _redact(url: str) -> str:
    from recruiter.core.config import redact_url

    return redact_url(url)


def queue_length(url: str | None = None) -> int:
    """Messages waiting in the queue (not those a worker holds)."""
    import redis

    client = redis.Redis.from_url(url or broker_url() or "")
    try:
        return int(client.llen(QUEUE))
    finally:
        client.close()


def requeue_stalled(*, idle_seconds: float | None = None) -> list[int]:
    """Re-send the pending items of jobs that made no progress for `idle_seconds` while the queue is empty;
    returns the job ids requeued. Exactly one caller wins per job and idle period."""
    from recruiter.tasks.work import finalize_job

    idle = stall_seconds() if idle_seconds is None else idle_seconds
    requeued: list[int] = []
    with open_session() as session:
        stalled = [job_id for job_id in stalled_jobs(session=session, idle_seconds=idle)
                   if (get_job(job_id, session=session).cursor or {}).get(BROKER_MARK)]
        if not stalled or queue_length() > 0:
            return []
        for job_id in stalled:
            if not touch_if_idle(job_id, session=session, idle_seconds=idle):
                continue
            keys = [item.key for item in pending_items(job_id, session=session)]
            if keys:
                log.warning("job %s made no progress for %.0f s: re-sending its %d pending items", job_id, idle,
                            len(keys))
                enqueue(job_id, keys)
                requeued.append(job_id)
            else:
                finalize_job(job_id)
    return requeued


# --- worker start-up ------------------------------------------------------------------------------------

@worker_process_init.connect
def _init_process(**_kwargs: Any) -> None:
    """In each pool process: fresh database connections, the model loaded once, the event loop ready."""
    dispose_engines(close=False)  # connections inherited from the parent belong to the parent
    from recruiter.matching.embedding import get_embedding_service

    get_embedding_service().encode_queries(["warm up"])
    _share_cores()
    _loop()
    _runtime()


def _share_cores() -> None:
    """Pool processes share the machine's cores instead of each starting one thread per core."""
    import sys

    torch = sys.modules.get("torch")
    per_process = int(os.environ.get("RECRUITER_WORKER_THREADS") or 0)
    if torch is not None:
        concurrency = int(os.environ.get("RECRUITER_WORKER_CONCURRENCY") or 1)
        torch.set_num_threads(per_process or max(1, (os.cpu_count() or 1) // max(1, concurrency)))


_watchdog_stop = threading.Event()


@worker_ready.connect
def _start_watchdog(**_kwargs: Any) -> None:
    _watchdog_stop.clear()

    def watch() -> None:
        interval = max(2.0, min(30.0, stall_seconds() / 3))
        while not _watchdog_stop.wait(interval):
            try:
                requeue_stalled()
            except Exception:
                log.exception("watchdog: could not check for stalled jobs")

    threading.Thread(target=watch, name="recruiter-watchdog", daemon=True).start()


@worker_shutdown.connect
def _stop_watchdog(**_kwargs: Any) -> None:
    _watchdog_stop.set()


def start_worker(*, concurrency: int, name: str | None = None, beat: bool = False, loglevel: str = "INFO") -> None:
    """Run a worker until it is stopped (Ctrl-C finishes the running tasks; SIGKILL loses nothing either)."""
    url = broker_url()
    if not url:
        raise RecruiterError(f"recruiter worker needs a broker: set {BROKER_ENV} (e.g. redis://127.0.0.1:6379/0) "
                             "and RECRUITER_DB to the shared database")
    name = name or socket.gethostname()
    os.environ["RECRUITER_WORKER_NAME"] = name
    os.environ["RECRUITER_WORKER_CONCURRENCY"] = str(concurrency)
    app.conf.broker_url = url
    argv = ["worker", f"--concurrency={concurrency}", f"--hostname={name}@%h", f"--loglevel={loglevel}",
            f"--queues={QUEUE}", "--pool=prefork", "--without-gossip", "--without-mingle"]
    if beat:
        argv += ["--beat", f"--schedule={recruiter_home() / 'celerybeat-schedule'}"]
    app.worker_main(argv)
