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

# The five stages, then the plumbing: who buys, what there is, who fits, outreach, partners, then jobs and serving.
ORDER = ["profile", "import", "export", "seed", "scrape", "discover", "sources", "rank", "prospect", "sequence", "outreach",
         "platform", "link", "activation", "performance", "report", "lookalike", "job", "worker", "index", "db", "ui", "user",
         "audit"]


class RecruiterGroup(TyperGroup):
    """Turns the errors a user can act on into one line on stderr and exit code 2.

    A database error that surfaces in the middle of a command (the server went away, the disk is full, the
    file is locked) is one of those too: it is worded by the core (host named, password never shown) rather
    than printed as a driver's traceback.
    """

    def list_commands(self, ctx: typer.Context) -> list[str]:
        """`recruiter --help` lists commands in the order of the work (ORDER), not the order modules loaded."""
        names = list(super().list_commands(ctx))
        return sorted(names, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))

    def invoke(self, ctx: typer.Context):
        previous_db = os.environ.get("RECRUITER_DB")
        try:
            return super().invoke(ctx)
        except RecruiterError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            from recruiter.core.db import describe_database_error

            typer.echo(f"error: {describe_database_error(exc)}", err=True)
            raise typer.Exit(2) from None
        finally:  # --db holds for this command only (matters when commands run in-process, as in tests)
            if previous_db is None:
                os.environ.pop("RECRUITER_DB", None)
            else:
                os.environ["RECRUITER_DB"] = previous_db


def _is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's errors (and the drivers' own), recognised without importing SQLAlchemy at start-up (the same
    test as `recruiter.core.db.is_database_error`, which would load SQLAlchemy with it)."""
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg", "psycopg2")


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
