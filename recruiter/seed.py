"""Sample data for a first run: the communities and profiles in examples/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, func, select

from recruiter.models import Community

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def seed_examples(*, session: Session, only_if_empty: bool = False,
                  progress: Callable[[str, int, int], None] | None = None, folder: Path = EXAMPLES) -> str:
    from profiles.service import import_profiles
    from recruiter.importing import import_files

    if only_if_empty and session.exec(select(func.count()).select_from(Community)).one():
        return "database already has communities: sample data not loaded"
    files = sorted(p for p in folder.glob("communities*") if p.suffix in (".jsonl", ".json", ".csv", ".opml"))
    if not files:
        return f"no sample communities found in {folder}"
    report = import_files(files, session=session, progress=progress)
    profiles_file = folder / "profiles.json"
    saved = import_profiles(profiles_file, session=session)[0] if profiles_file.exists() else []
    return f"sample data loaded: {report.summary()}; {len(saved)} profiles"
