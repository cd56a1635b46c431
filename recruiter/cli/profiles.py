"""`recruiter profile ...`: ideal-client profiles, in the merchant's words."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from recruiter.cli.common import CliError, check_format, cli_actor, emit, session_scope
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
    """Create an ideal-client profile. An existing name is refused: change that profile with `profile update`.

    Example: recruiter profile add --name yoga --description "Yoga mats for beginners with back pain"
    --keyword yoga --exclude "hot yoga studio franchise" --example https://www.reddit.com/r/yoga/
    """
    from profiles.service import ProfileExists, create_profile
    from recruiter.core.models import ProfileCreate

    with session_scope() as session:
        try:
            profile = create_profile(ProfileCreate(name=name, description=description, keywords=keyword,
                                                   exclusions=exclude, examples=example),
                                     actor=cli_actor(), session=session)
        except ProfileExists as exc:
            raise CliError(f"{exc}; it was left as it is. Change it with: recruiter profile update "
                           f"{_quoted(name)} --description ... (see recruiter profile update --help)") from None
        typer.echo(f"profile {profile.name!r} saved (id {profile.id})")
        warn_thin_description(profile.description)


@profile_app.command("update")
def profile_update(
    name: str = typer.Argument(..., help="The profile to change (name or id)."),
    description: str | None = typer.Option(None, "--description", help="A new description (replaces the old)."),
    rename: str | None = typer.Option(None, "--rename", help="A new name."),
    keyword: list[str] = typer.Option([], "--keyword", metavar="K", help="Add a keyword (repeatable)."),
    remove_keyword: list[str] = typer.Option([], "--remove-keyword", metavar="K", help="Remove a keyword (repeatable)."),
    clear_keywords: bool = typer.Option(False, "--clear-keywords", help="Remove all keywords first."),
    exclude: list[str] = typer.Option([], "--exclude", metavar="K", help="Add an exclusion (repeatable)."),
    remove_exclude: list[str] = typer.Option([], "--remove-exclude", metavar="K", help="Remove an exclusion (repeatable)."),
    clear_excludes: bool = typer.Option(False, "--clear-excludes", help="Remove all exclusions first."),
    example: list[str] = typer.Option([], "--example", metavar="URL", help="Add an example community URL (repeatable)."),
    remove_example: list[str] = typer.Option([], "--remove-example", metavar="URL", help="Remove an example URL (repeatable)."),
    clear_examples: bool = typer.Option(False, "--clear-examples", help="Remove all examples first."),
) -> None:
    """Change a profile: only the options given change, everything else stays.

    --keyword, --exclude and --example add to the lists; --remove-... takes entries out (keywords ignore case,
    example URLs match in any form); --clear-... empties a list first, so `--clear-keywords --keyword a
    --keyword b` replaces the keywords with a and b.

    Example: recruiter profile update yoga --keyword "yoga mat" --remove-keyword hot --rename yoga-beginners
    """
    from profiles.service import ListEdit, amend_profile, require_profile

    with session_scope() as session:
        profile = require_profile(name, session=session)
        profile = amend_profile(
            profile, actor=cli_actor(), session=session, description=description, rename=rename,
            keywords=ListEdit(keyword, remove_keyword, clear_keywords),
            exclusions=ListEdit(exclude, remove_exclude, clear_excludes),
            examples=ListEdit(example, remove_example, clear_examples),
        )
        typer.echo(f"profile {profile.name!r} updated: {len(profile.keywords)} keywords, "
                   f"{len(profile.exclusions)} exclusions, {len(profile.examples)} examples")
        if description is not None:
            warn_thin_description(profile.description)


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


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
        delete_profile(profile, actor=cli_actor(), session=session)
        typer.echo(f"profile {name!r} deleted")


@profile_app.command("export")
def profile_export(
    name: str | None = typer.Argument(None, help="One profile (default: all)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Export profiles as a JSON list (re-importable with `profile import`).

    Example: recruiter profile export > profiles.json
    """
    from profiles.service import export_profiles

    with session_scope() as session:
        rows = export_profiles(actor=cli_actor(), session=session, name=name)
    text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@profile_app.command("import")
def profile_import(
    file: Path = typer.Argument(..., help="A JSON list of profiles."),
    update: bool = typer.Option(False, "--update", help="Update profiles that exist with the file's fields "
                                                        "(default: leave them as they are and report them)."),
) -> None:
    """Import profiles from JSON (as written by `profile export`). A name that exists is skipped and
    reported, unless --update: then the fields the file gives replace the stored ones, the rest stay.

    Example: recruiter profile import profiles.json --update
    """
    from profiles.service import import_profiles

    with session_scope() as session:
        result = import_profiles(file, actor=cli_actor(), session=session, update=update)
    for error in result.errors[:20]:
        typer.echo(error)
    if len(result.errors) > 20:
        typer.echo(f"… and {len(result.errors) - 20} more")
    if result.skipped:
        typer.echo(f"exists, left as it is (use --update to update): {', '.join(result.skipped)}")
    verb = "imported or updated" if update else "imported"
    typer.echo(f"{len(result.saved)} profiles {verb}, {len(result.skipped)} skipped as existing, "
               f"{len(result.errors)} with errors")
    if result.errors and not result.saved:
        raise typer.Exit(1)


def warn_thin_description(description: str | None) -> None:
    """After a save: say on stderr when the description is too thin to rank on (saving is never refused)."""
    from profiles.advice import description_warning

    warning = description_warning(description)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
