"""`recruiter profile ...`: ideal-client profiles, in the merchant's words."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from recruiter.cli.common import check_format, emit, session_scope
from recruiter.cli.root import app

profile_app = typer.Typer(help="Ideal-client profiles: who buys, in the merchant's words.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("add")
def profile_add(
    name: str = typer.Option(..., "--name", help="A short unique name."),
    description: str = typer.Option("", "--description", help="Who buys, what problems they have, what you sell."),
    keyword: list[str] = typer.Option([], "--keyword", help="A term the audience uses (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", help="A topic that is NOT a fit (repeatable)."),
    example: list[str] = typer.Option([], "--example", help="URL of a community that is a great fit (repeatable)."),
) -> None:
    """Create an ideal-client profile (or update the one with that name).

    Example: recruiter profile add --name yoga --description "Yoga mats for beginners with back pain"
    --keyword yoga --exclude "hot yoga studio franchise" --example https://www.reddit.com/r/yoga/
    """
    from profiles.service import save_profile
    from recruiter.core.models import ProfileCreate

    with session_scope() as session:
        profile = save_profile(ProfileCreate(name=name, description=description, keywords=keyword,
                                             exclusions=exclude, examples=example), session=session)
        typer.echo(f"profile {profile.name!r} saved (id {profile.id})")
        warn_thin_description(profile.description)


@profile_app.command("list")
def profile_list(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """List profiles.

    Example: recruiter profile list --format json
    """
    from profiles.service import list_profiles, profile_to_dict

    check_format(fmt)
    with session_scope() as session:
        rows = [profile_to_dict(p) for p in list_profiles(session=session)]
    emit(rows, fmt, ["name", "description", "keywords", "exclusions", "examples"])


@profile_app.command("show")
def profile_show(name: str = typer.Argument(..., help="Profile name.")) -> None:
    """Show one profile as JSON.

    Example: recruiter profile show yoga
    """
    from profiles.service import profile_to_dict, require_profile

    with session_scope() as session:
        profile = require_profile(name, session=session)
        typer.echo(json.dumps(profile_to_dict(profile), indent=2, ensure_ascii=False))


@profile_app.command("delete")
def profile_delete(
    name: str = typer.Argument(..., help="Profile name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a profile and its stored matches (prospects stay in the pipeline).

    Example: recruiter profile delete yoga --yes
    """
    from profiles.service import delete_profile, require_profile

    with session_scope() as session:
        profile = require_profile(name, session=session)
        if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete profile {profile.name!r}?"):
            raise typer.Exit(1)
        delete_profile(profile, session=session)
        typer.echo(f"profile {name!r} deleted")


@profile_app.command("export")
def profile_export(
    name: str | None = typer.Argument(None, help="One profile (default: all)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Export profiles as a JSON list (re-importable with `profile import`).

    Example: recruiter profile export > profiles.json
    """
    from profiles.service import list_profiles, profile_to_dict, require_profile

    with session_scope() as session:
        items = [require_profile(name, session=session)] if name else list_profiles(session=session)
        text = json.dumps([profile_to_dict(p) for p in items], indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@profile_app.command("import")
def profile_import(file: Path = typer.Argument(..., help="A JSON list of profiles.")) -> None:
    """Import profiles from JSON (as written by `profile export`); existing names are updated.

    Example: recruiter profile import profiles.json
    """
    from profiles.service import import_profiles

    with session_scope() as session:
        saved, errors = import_profiles(file, session=session)
    for error in errors:
        typer.echo(error)
    typer.echo(f"{len(saved)} profiles imported, {len(errors)} skipped")
    if not saved:
        raise typer.Exit(1)


def warn_thin_description(description: str | None) -> None:
    """After a save: say on stderr when the description is too thin to rank on (saving is never refused)."""
    from profiles.advice import description_warning

    warning = description_warning(description)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
