"""`recruiter job show | wait | list | retry` and `recruiter worker`: follow, repair and run jobs.

Jobs are rows in the database, so these work on any machine that reaches it, with or without a broker.
`job wait` exits 0 when the job is done, 1 when it finished partial or failed, 124 on timeout (like
`timeout(1)`), so scripts can chain on it.

`recruiter worker` runs queued jobs on this machine (Celery over the broker in RECRUITER_BROKER). Every machine
that runs a worker needs the same RECRUITER_BROKER and RECRUITER_DB (and the same RECRUITER_MODEL); the index
files stay per machine and catch up from the database's embedding cache.
"""

from __future__ import annotations

import json
import sys
import time

import typer

from recruiter.cli.common import check_format, cli_actor, session_scope
from recruiter.cli.root import app

job_app = typer.Typer(help="Follow, wait for and retry jobs (scrapes, imports, discoveries).", no_args_is_help=True)
app.add_typer(job_app, name="job")

EXIT_TIMEOUT = 124
WARNINGS_SHOWN = 10


def _show(view, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(view.as_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    workers = ", ".join(f"{name}: {count}" for name, count in sorted(view.workers.items())) or "-"
    typer.echo(f"job {view.id} ({view.kind}): {view.state}, {view.done} done, {view.failed} failed of "
               f"{view.total}; workers: {workers}")
    if view.error:
        typer.echo(f"  error: {view.error}")
    for failure in view.failures:
        typer.echo(f"  failed: {failure.input.get('url') or failure.key}: {failure.error}")
    for warning in view.warnings[:WARNINGS_SHOWN]:
        typer.echo(f"  warning: {warning.input.get('url') or warning.key}: {warning.error}")
    if len(view.warnings) > WARNINGS_SHOWN:
        typer.echo(f"  ... and {len(view.warnings) - WARNINGS_SHOWN} more warnings (--format json lists them all)")


def _view(job_id: int):
    from recruiter.core.jobs import job_view

    with session_scope() as session:
        return job_view(job_id, session=session)


def _exit_code(state: str) -> int:
    return 0 if state == "done" else 1


@job_app.command("show")
def job_show(
    job_id: int = typer.Argument(..., help="Job id (printed when the job was queued)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Show a job: state (queued, running, done, partial, failed), counts, workers and each failure's reason.

    Example: recruiter job show 12 --format json
    """
    check_format(fmt, ("table", "json"))
    _show(_view(job_id), fmt)


@job_app.command("wait")
def job_wait(
    job_id: int = typer.Argument(..., help="Job id."),
    timeout: float = typer.Option(3600.0, "--timeout", min=0.0, help="Seconds to wait before giving up (exit 124)."),
    fmt: str = typer.Option("table", "--format", help="table or json: the job as it ended."),
) -> None:
    """Wait until a job finishes: exit 0 when done, 1 when partial or failed, 124 on timeout.

    Example: recruiter job wait 12 --timeout 600 && recruiter export --format csv > communities.csv
    """
    check_format(fmt, ("table", "json"))
    deadline = time.monotonic() + timeout
    view = _view(job_id)
    while not view.finished:
        left = deadline - time.monotonic()
        if left <= 0:
            typer.echo(f"job {job_id} still {view.state} after {timeout:g} s ({view.done} done, {view.failed} "
                       f"failed of {view.total})", err=True)
            raise typer.Exit(EXIT_TIMEOUT)
        time.sleep(min(0.5, left))
        view = _view(job_id)
    _show(view, fmt)
    raise typer.Exit(_exit_code(view.state))


@job_app.command("list")
def job_list(
    limit: int = typer.Option(20, "--limit", min=1, help="How many of the newest jobs."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """List the newest jobs with their state and counts.

    Example: recruiter job list --limit 5
    """
    from recruiter.core.jobs import recent_jobs

    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        views = recent_jobs(session=session, limit=limit, failures=0 if fmt == "table" else 20)
    if fmt == "json":
        sys.stdout.write(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if not views:
        typer.echo("no jobs yet")
    for v in views:
        typer.echo(f"{v.id:>5}  {v.kind:9} {v.state:11} {v.done:>6} done {v.failed:>5} failed of {v.total:<6} "
                   f"{v.created_at:%Y-%m-%d %H:%M}")


@job_app.command("retry")
def job_retry(
    job_id: int = typer.Argument(..., help="Job id."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Run a job's failed items again (and any it never finished), keeping what succeeded.

    With RECRUITER_BROKER the items are queued for the workers and the command returns at once (follow with
    `job wait`); without, they run here.

    Example: recruiter job retry 12 && recruiter job wait 12 --timeout 600
    """
    from recruiter.tasks.submit import dispatch, queue_available, retry_job, run_inline

    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        keys = retry_job(job_id, actor=cli_actor(), session=session)
        if queue_available():
            dispatch(job_id, session=session, keys=keys)
    if queue_available():
        if fmt == "json":
            sys.stdout.write(json.dumps({"job": job_id, "retried": len(keys)}) + "\n")
        else:
            typer.echo(f"job {job_id}: {len(keys)} items queued again")
        return
    run_inline(job_id)
    view = _view(job_id)
    _show(view, fmt)
    raise typer.Exit(_exit_code(view.state))


def queue_import(files: list, fmt: str) -> None:
    """`recruiter import --queue`: read and check the files here, queue the good rows for the workers."""
    from recruiter.cli.scraping import queued_job, require_broker, send_to_workers
    from recruiter.tasks.submit import submit_import

    require_broker()
    with session_scope() as session:
        job, errors = submit_import(files, actor=cli_actor(), session=session)
    for error in errors:
        typer.echo(error, err=True)
    if job is None:
        typer.echo("nothing to import", err=True)
        raise typer.Exit(1)
    send_to_workers(int(job.id))
    queued_job(int(job.id), fmt, f"{job.total} rows")


@app.command("worker")
def worker_command(
    concurrency: int = typer.Option(2, "--concurrency", "-c", min=1, max=64,
                                    help="Tasks run at once (one process each, the model loaded once per process)."),
    name: str | None = typer.Option(None, "--name", "-n", help="This worker's name in `job show` (default: host name)."),
    beat: bool = typer.Option(False, "--beat", help="Also run the periodic schedule (run it on one worker only)."),
    loglevel: str = typer.Option("INFO", "--loglevel", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Run queued scrape, import and discover jobs until stopped (Ctrl-C lets running tasks finish).

    Needs RECRUITER_BROKER (a Redis URL) and RECRUITER_DB (the shared PostgreSQL database). A worker killed
    outright loses nothing: its unfinished tasks go to another worker within about two minutes.

    Example: RECRUITER_BROKER=redis://10.0.0.5:6379/0 recruiter worker --concurrency 4 --name w1
    """
    from recruiter.tasks.app import start_worker

    start_worker(concurrency=concurrency, name=name, beat=beat, loglevel=loglevel.upper())
