"""`recruiter ui`: serve the web app."""

from __future__ import annotations

import os

import typer

from recruiter.cli.common import fail
from recruiter.cli.root import app


@app.command("ui")
def ui_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; non-loopback needs RECRUITER_PASSWORD."),
    port: int = typer.Option(8080, "--port", help="Port to serve on."),
) -> None:
    """Serve the web app (profiles, ranked prospects, pipeline board) on http://HOST:PORT.

    Example: recruiter ui --port 8080
    """
    from recruiter.core.security import LOOPBACK_HOSTS, password_required_message

    if host not in LOOPBACK_HOSTS and not os.environ.get("RECRUITER_PASSWORD"):
        fail(password_required_message(host), code=2)
    from ui.main import start

    start(host=host, port=port)
