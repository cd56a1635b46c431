"""Sample data for a first run: communities and profiles shipped inside the package (`samples/`), so an
installed wheel seeds as well as a checkout does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, func, select

from profiles.service import import_profiles
from recruiter.accounts.roles import Actor
from recruiter.catalogue.importing import import_files
from recruiter.core.models import Community

SAMPLES = Path(__file__).resolve().parent / "samples"


def seed_examples(*, actor: Actor, session: Session, only_if_empty: bool = False,
                  progress: Callable[[str, int, int], None] | None = None, folder: Path = SAMPLES,
                  after_import: Callable[[], int] | None = None) -> str:
    """Load the samples; `after_import` (the caller's embedding step) runs before the summary is written, so
    the summary can say how many texts it embedded. Needs IMPORT (and PROFILES for the sample profiles); audited
    as "seed"."""
    if only_if_empty and session.exec(select(func.count()).select_from(Community)).one():
        return "database already has communities: sample data not loaded"
    files = sorted(p for p in folder.glob("communities*") if p.suffix in (".jsonl", ".json", ".csv", ".opml"))
    if not files:
        return f"no sample communities found in {folder}"
    report = import_files(files, actor=actor, session=session, progress=progress, action="seed")
    if after_import is not None:
        report.embedded = after_import()
    profiles_file = folder / "profiles.json"
    # Sample profiles the user already has (perhaps edited) are left as they are.
    saved = import_profiles(profiles_file, actor=actor, session=session).saved if profiles_file.exists() else []
    return f"sample data loaded: {report.summary()}; {len(saved)} profiles"
