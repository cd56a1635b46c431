"""Creating, reading, updating, deleting, exporting and importing ideal-client profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from recruiter.core.canonical import canonical_url
from recruiter.core.errors import RecruiterError
from recruiter.core.models import Match, Profile, ProfileCreate, utcnow


class ProfileError(RecruiterError, ValueError):
    pass


def _clean_list(values: list[str] | None) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values or [] if v and v.strip()))


def _clean_examples(values: list[str] | None) -> list[str]:
    out = []
    for value in _clean_list(values):
        try:
            out.append(canonical_url(value))
        except ValueError as exc:
            raise ProfileError(f"example {value!r}: {exc}") from None
    return list(dict.fromkeys(out))


def save_profile(data: ProfileCreate, *, session: Session) -> Profile:
    """Create the profile, or update the one with the same name."""
    name = data.name.strip()
    if not name:
        raise ProfileError("a profile needs a name")
    profile = get_profile(name, session=session)
    if profile is None:
        profile = Profile(name=name)
    profile.description = (data.description or "").strip()
    profile.keywords = _clean_list(data.keywords)
    profile.exclusions = _clean_list(data.exclusions)
    profile.examples = _clean_examples(data.examples)
    profile.updated_at = utcnow()
    session.add(profile)
    session.commit()
    session.refresh(profile)
    return profile


def update_profile(profile: Profile, *, session: Session, **changes: Any) -> Profile:
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ProfileError("a profile needs a name")
        other = get_profile(name, session=session)
        if other is not None and other.id != profile.id:
            raise ProfileError(f"a profile named {name!r} already exists")
        profile.name = name
    if "description" in changes:
        profile.description = (changes["description"] or "").strip()
    for key in ("keywords", "exclusions"):
        if key in changes:
            setattr(profile, key, _clean_list(changes[key]))
    if "examples" in changes:
        profile.examples = _clean_examples(changes["examples"])
    profile.updated_at = utcnow()
    session.add(profile)
    session.commit()
    session.refresh(profile)
    return profile


def get_profile(name_or_id: str | int, *, session: Session) -> Profile | None:
    if isinstance(name_or_id, int) or (isinstance(name_or_id, str) and name_or_id.isdigit()):
        found = session.get(Profile, int(name_or_id))
        if found is not None:
            return found
    return session.exec(select(Profile).where(Profile.name == str(name_or_id).strip())).first()


def require_profile(name_or_id: str | int, *, session: Session) -> Profile:
    profile = get_profile(name_or_id, session=session)
    if profile is None:
        names = ", ".join(p.name for p in list_profiles(session=session)) or "none yet"
        raise ProfileError(f"no profile named {name_or_id!r} (profiles: {names})")
    return profile


def list_profiles(*, session: Session) -> list[Profile]:
    return list(session.exec(select(Profile).order_by(Profile.name)).all())


def delete_profile(profile: Profile, *, session: Session) -> None:
    for match in session.exec(select(Match).where(Match.profile_id == profile.id)).all():
        session.delete(match)
    session.delete(profile)
    session.commit()


def duplicate_profile(profile: Profile, *, session: Session) -> Profile:
    base = f"{profile.name} (copy)"
    name, number = base, 2
    while get_profile(name, session=session) is not None:
        name, number = f"{base} {number}", number + 1
    return save_profile(
        ProfileCreate(name=name, description=profile.description, keywords=profile.keywords,
                      exclusions=profile.exclusions, examples=profile.examples),
        session=session,
    )


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "description": profile.description,
        "keywords": list(profile.keywords or []),
        "exclusions": list(profile.exclusions or []),
        "examples": list(profile.examples or []),
        "created_at": profile.created_at.isoformat() if profile.created_at else None,
        "updated_at": profile.updated_at.isoformat() if profile.updated_at else None,
    }


def import_profiles(path: Path, *, session: Session) -> tuple[list[Profile], list[str]]:
    """Read profiles from a JSON list (or one object); also accepts the benchmark's {id, text} shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ProfileError(f"{path}: line {getattr(exc, 'lineno', 1)}: invalid JSON: {exc}") from None
    items = data if isinstance(data, list) else data.get("profiles", [data]) if isinstance(data, dict) else None
    if items is None:
        raise ProfileError(f"{path}: expected a JSON list of profiles")
    saved, errors = [], []
    for number, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise ProfileError("expected an object")
            name = item.get("name") or item.get("id")
            if not isinstance(name, str) or not name.strip():
                raise ProfileError("missing name")
            saved.append(save_profile(ProfileCreate(
                name=name,
                description=str(item.get("description") or item.get("text") or ""),
                keywords=_as_list(item.get("keywords")),
                exclusions=_as_list(item.get("exclusions")),
                examples=_as_list(item.get("examples")),
            ), session=session))
        except (ProfileError, TypeError) as exc:
            session.rollback()
            errors.append(f"profile {number}: {exc}")
    return saved, errors


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",")]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ProfileError("keywords, exclusions and examples must be lists of text")


def default_profile(*, session: Session) -> Profile | None:
    """The profile a page opens without being told: the last used one, else the only (or first) one."""
    used = session.exec(select(Profile).where(Profile.last_used_at.is_not(None))
                        .order_by(Profile.last_used_at.desc())).first()
    return used or session.exec(select(Profile).order_by(Profile.name)).first()


def touch_profile(profile: Profile, *, session: Session) -> None:
    """Remember the profile as last used (what the next bare /prospects opens)."""
    profile.last_used_at = utcnow()
    session.add(profile)
    session.commit()
