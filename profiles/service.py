"""Creating, reading, updating, deleting, exporting and importing ideal-client profiles.

A profile is the merchant's own words, so nothing here replaces one silently: creating a name that exists is
refused (`ProfileExists`), `amend_profile` changes only what it is given (keywords, exclusions and examples are
added to, removed from or cleared one by one), and importing a file skips existing names unless asked to
update them. The CLI and the web app call these same functions.

Creating, changing and importing profiles needs PROFILES, deleting one DELETE (`recruiter.accounts.roles`); each
change is recorded in the audit log with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import DELETE, EXPORT, PROFILES, Actor, require
from recruiter.core.canonical import canonical_url
from recruiter.core.errors import Conflict, RecruiterError
from recruiter.core.models import Match, Profile, ProfileCreate, utcnow

MAX_PROFILES_FILE = 20 * 1024 * 1024  # bytes: a profiles file is a few KB; anything this big is not one


class ProfileError(RecruiterError, ValueError):
    pass


class ProfileExists(ProfileError, Conflict):
    """A profile with that name already exists (creating it again would replace the merchant's words)."""


@dataclass
class ListEdit:
    """A change to one of a profile's lists: clear it first (or not), remove some entries, add others."""

    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    clear: bool = False

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.clear)

    def apply(self, current: list[str], *, key=lambda value: value.strip().lower()) -> list[str]:
        gone = {key(v) for v in self.remove}
        out: dict[str, str] = {}
        for value in ([] if self.clear else [v for v in current if key(v) not in gone]) + list(self.add):
            if value.strip():
                out.setdefault(key(value), value)
        return list(out.values())


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


def create_profile(data: ProfileCreate, *, actor: Actor, session: Session) -> Profile:
    """Create a profile; `ProfileExists` when the name is taken (change that one with `amend_profile`).
    Needs PROFILES; audited as "profile.create"."""
    actor = require(actor, PROFILES, session=session)
    return _create(data, actor=actor, session=session, action="profile.create")


def _create(data: ProfileCreate, *, actor: Actor, session: Session, action: str | None) -> Profile:
    name = (data.name or "").strip()
    if not name:
        raise ProfileError("a profile needs a name")
    if get_profile(name, session=session) is not None:
        raise ProfileExists(f"a profile named {name!r} already exists")
    profile = Profile(name=name)
    profile.description = (data.description or "").strip()
    profile.keywords = _clean_list(data.keywords)
    profile.exclusions = _clean_list(data.exclusions)
    profile.examples = _clean_examples(data.examples)
    profile.updated_at = utcnow()
    session.add(profile)
    if action:
        audit.record(actor, action, name, session=session)
    session.commit()
    session.refresh(profile)
    return profile


save_profile = create_profile  # the name callers written before creating was refused for an existing name use


def amend_profile(
    profile: Profile,
    *,
    actor: Actor,
    session: Session,
    description: str | None = None,
    rename: str | None = None,
    keywords: ListEdit | None = None,
    exclusions: ListEdit | None = None,
    examples: ListEdit | None = None,
) -> Profile:
    """Change only what is given: a new description or name, and edits to the three lists."""
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = description
    if rename is not None:
        changes["name"] = rename
    if keywords:
        changes["keywords"] = keywords.apply(list(profile.keywords or []))
    if exclusions:
        changes["exclusions"] = exclusions.apply(list(profile.exclusions or []))
    if examples:
        edit = ListEdit(add=_clean_examples(examples.add), remove=_example_keys(examples.remove),
                        clear=examples.clear)
        changes["examples"] = edit.apply(list(profile.examples or []), key=_example_key)
    if not changes:
        raise ProfileError("nothing to change: give a description, a new name or keywords, exclusions or examples")
    return update_profile(profile, actor=actor, session=session, **changes)


def _example_key(value: str) -> str:
    try:
        return canonical_url(value)
    except ValueError:
        return value.strip().lower()


def _example_keys(values: list[str]) -> list[str]:
    return [_example_key(v) for v in values]


def update_profile(profile: Profile, *, actor: Actor, session: Session, **changes: Any) -> Profile:
    """Replace the fields given (name, description, keywords, exclusions, examples) with the values given.
    Needs PROFILES; audited as "profile.update" (the fields changed)."""
    actor = require(actor, PROFILES, session=session)
    return _update(profile, actor=actor, session=session, action="profile.update", **changes)


def _update(profile: Profile, *, actor: Actor, session: Session, action: str | None, **changes: Any) -> Profile:
    before = profile.name
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ProfileError("a profile needs a name")
        other = get_profile(name, session=session)
        if other is not None and other.id != profile.id:
            raise ProfileExists(f"a profile named {name!r} already exists")
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
    if action:
        detail: dict[str, Any] = {"fields": sorted(changes)}
        if profile.name != before:
            detail["renamed_from"] = before
        audit.record(actor, action, profile.name, detail, session=session)
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


def delete_profile(profile: Profile, *, actor: Actor, session: Session) -> None:
    """Delete a profile and its stored matches (prospects stay). Needs DELETE; audited as "profile.delete"."""
    actor = require(actor, DELETE, session=session)
    for match in session.exec(select(Match).where(Match.profile_id == profile.id)).all():
        session.delete(match)
    audit.record(actor, "profile.delete", profile.name, session=session)
    session.delete(profile)
    session.commit()


def duplicate_profile(profile: Profile, *, actor: Actor, session: Session) -> Profile:
    base = f"{profile.name} (copy)"
    name, number = base, 2
    while get_profile(name, session=session) is not None:
        name, number = f"{base} {number}", number + 1
    return create_profile(
        ProfileCreate(name=name, description=profile.description, keywords=profile.keywords,
                      exclusions=profile.exclusions, examples=profile.examples),
        actor=actor, session=session,
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


@dataclass
class ProfileImport:
    saved: list[Profile] = field(default_factory=list)     # created, or updated when asked
    skipped: list[str] = field(default_factory=list)       # names that exist and were left as they are
    errors: list[str] = field(default_factory=list)


def export_profiles(*, actor: Actor, session: Session, name: str | None = None) -> list[dict[str, Any]]:
    """Every profile (or one) as `profile export` writes them. Needs EXPORT; audited as "export"."""
    actor = require(actor, EXPORT, session=session)
    items = [require_profile(name, session=session)] if name else list_profiles(session=session)
    rows = [profile_to_dict(p) for p in items]
    audit.record(actor, "export", name or "", {"what": "profiles", "rows": len(rows)}, session=session)
    session.commit()
    return rows


def import_profiles(path: Path, *, actor: Actor, session: Session, update: bool = False) -> ProfileImport:
    """Read profiles from a JSON list (or one object, or {"profiles": [...]}; also the benchmark's {id, text}).

    A name that exists is skipped and reported, unless `update`: then the fields the file gives replace the
    stored ones and the others stay. Needs PROFILES; audited as one "profile.import" with the counts."""
    actor = require(actor, PROFILES, session=session)
    path = Path(path)
    try:
        if path.stat().st_size > MAX_PROFILES_FILE:
            raise ProfileError(f"{path}: too large for a profiles file ({path.stat().st_size >> 20} MB)")
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text (profile files are JSON, as `profile export` writes them)") \
            from None
    except RecursionError:
        raise ProfileError(f"{path}: line 1: invalid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ProfileError(f"{path}: line {getattr(exc, 'lineno', 1)}: invalid JSON: "
                           f"{getattr(exc, 'msg', exc)}") from None
    items = data if isinstance(data, list) else data.get("profiles", [data]) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ProfileError(f"{path}: expected a JSON list of profiles")
    result = ProfileImport()
    for number, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise ProfileError("expected an object")
            name = item.get("name") or item.get("id")
            if not isinstance(name, str) or not name.strip():
                raise ProfileError("missing name")
            description = item.get("description", item.get("text"))
            if description is not None and not isinstance(description, str):
                raise ProfileError("description must be text")
            existing = get_profile(name.strip(), session=session)
            if existing is not None and not update:
                result.skipped.append(name.strip())
                continue
            if existing is not None:
                changes: dict[str, Any] = {} if description is None else {"description": description}
                for key in ("keywords", "exclusions", "examples"):
                    if key in item:
                        changes[key] = _as_list(item[key])
                result.saved.append(_update(existing, actor=actor, session=session, action=None, **changes))
                continue
            result.saved.append(_create(ProfileCreate(
                name=name,
                description=description or "",
                keywords=_as_list(item.get("keywords")),
                exclusions=_as_list(item.get("exclusions")),
                examples=_as_list(item.get("examples")),
            ), actor=actor, session=session, action=None))
        except (ProfileError, TypeError) as exc:
            session.rollback()
            result.errors.append(f"profile {number}: {exc}")
    audit.record(actor, "profile.import", path.name, {"saved": len(result.saved), "skipped": len(result.skipped),
                                                      "errors": len(result.errors)}, session=session)
    session.commit()
    return result


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
