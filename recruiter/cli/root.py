"""The root `recruiter` command: global options, and the one place where errors become one line.

Every command module attaches its commands to `app` here; `recruiter.cli` imports them all. A
`RecruiterError` raised anywhere below a command is printed as `error: <message>` on stderr with exit code 2,
so the CLI refuses things in one voice whichever service refused them.
"""

from __future__ import annotations

import os

import typer
from typer.core import TyperGroup

from recruiter.core.errors import RecruiterError


class RecruiterGroup(TyperGroup):
    """Turns the errors a user can act on into one line on stderr and exit code 2."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except RecruiterError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    name="recruiter",
    cls=RecruiterGroup,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    db: str | None = typer.Option(None, "--db", envvar="RECRUITER_DB",
                                  help="SQLAlchemy URL of the database (default: SQLite in $RECRUITER_HOME)."),
) -> None:
    """Find, rank and recruit affiliate partners whose audience is your ideal client.

    Example: recruiter import communities.csv && recruiter rank yoga --limit 20
    """
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db
    if db:
        os.environ["RECRUITER_DB"] = db  # every service resolves the database the same way
