"""`recruiter worker`: run queued jobs on this machine (Celery over the broker in RECRUITER_BROKER).

Every machine that runs a worker needs the same RECRUITER_BROKER and RECRUITER_DB (and the same
RECRUITER_MODEL); the index files stay per machine and catch up from the database's embedding cache.
"""

from __future__ import annotations

import typer

from recruiter.cli.root import app


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
