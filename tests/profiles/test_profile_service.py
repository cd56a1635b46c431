"""Profiles are the merchant's words: never replaced silently, changed only where asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profiles.service import ListEdit, ProfileExists, amend_profile, create_profile, get_profile, import_profiles
from recruiter.accounts.roles import Actor
from recruiter.core.models import ProfileCreate

YOGA = ["profile", "add", "--name", "yoga", "--description", "Yoga mats for beginners with back pain",
        "--keyword", "yoga", "--keyword", "Back Pain", "--exclude", "hot yoga studio franchise",
        "--example", "https://www.reddit.com/r/yoga/"]


def _show(cli, name: str) -> dict:
    result = cli("profile", "show", name)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_second_add_is_refused_and_leaves_the_profile(cli) -> None:
    assert cli(*YOGA).exit_code == 0
    before = _show(cli, "yoga")
    result = cli("profile", "add", "--name", "yoga", "--description", "something else")
    assert result.exit_code != 0
    assert "already exists" in result.output and "profile update" in result.output
    assert _show(cli, "yoga") == before


def test_update_changes_only_the_options_given(cli) -> None:
    cli(*YOGA)
    before = _show(cli, "yoga")
    assert cli("profile", "update", "yoga", "--keyword", "yoga mat", "--remove-keyword", "back pain").exit_code == 0
    after = _show(cli, "yoga")
    assert after["keywords"] == ["yoga", "yoga mat"]
    assert (after["description"], after["exclusions"], after["examples"]) == \
        (before["description"], before["exclusions"], before["examples"])

    assert cli("profile", "update", "yoga", "--remove-example", "reddit.com/r/YOGA", "--example", "r/flexibility",
               "--description", "Mats and straps").exit_code == 0
    after = _show(cli, "yoga")
    assert after["examples"] == ["https://www.reddit.com/r/flexibility/"]
    assert after["description"] == "Mats and straps" and after["keywords"] == ["yoga", "yoga mat"]

    assert cli("profile", "update", "yoga", "--clear-keywords", "--keyword", "pilates",
               "--clear-excludes", "--rename", "mats").exit_code == 0
    after = _show(cli, "mats")
    assert (after["keywords"], after["exclusions"]) == (["pilates"], [])
    assert cli("profile", "show", "yoga").exit_code != 0


def test_update_refuses_nothing_and_taken_names(cli) -> None:
    cli(*YOGA)
    cli("profile", "add", "--name", "other", "--description", "x")
    nothing = cli("profile", "update", "yoga")
    assert nothing.exit_code != 0 and "nothing to change" in nothing.output
    taken = cli("profile", "update", "yoga", "--rename", "other")
    assert taken.exit_code != 0 and "already exists" in taken.output
    missing = cli("profile", "update", "nope", "--keyword", "x")
    assert missing.exit_code != 0 and "no profile named 'nope'" in missing.output


def test_update_help_documents_the_list_edits(cli) -> None:
    text = cli("profile", "update", "--help").output
    for flag in ("--keyword", "--remove-keyword", "--clear-keywords", "--exclude", "--example", "--rename",
                 "--description", "Example:"):
        assert flag in text


def test_profile_import_skips_existing_unless_update(cli, tmp_path: Path) -> None:
    cli(*YOGA)
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps([{"name": "yoga", "description": "Replaced?", "keywords": ["new"]},
                                {"name": "coffee", "description": "Espresso gear"}]))
    result = cli("profile", "import", path)
    assert result.exit_code == 0, result.output
    assert "1 profiles imported, 1 skipped" in result.output and "yoga" in result.output
    assert _show(cli, "yoga")["description"] == "Yoga mats for beginners with back pain"

    result = cli("profile", "import", path, "--update")
    assert result.exit_code == 0
    yoga = _show(cli, "yoga")
    assert (yoga["description"], yoga["keywords"]) == ("Replaced?", ["new"])
    assert yoga["examples"] == ["https://www.reddit.com/r/yoga/"]  # not in the file: kept


@pytest.mark.parametrize("content", [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe\x00garbage", b"{oops"])
def test_profile_import_of_bad_files_is_one_line(cli, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = cli("profile", "import", path)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_services(memory_session) -> None:
    profile = create_profile(ProfileCreate(name="p", description="d", keywords=["a", "b"]), actor=Actor.cli(), session=memory_session)
    with pytest.raises(ProfileExists):
        create_profile(ProfileCreate(name=" p "), actor=Actor.cli(), session=memory_session)
    amend_profile(profile, actor=Actor.cli(), session=memory_session, keywords=ListEdit(add=["A", "c"], remove=["b"]))
    assert get_profile("p", session=memory_session).keywords == ["a", "c"]


def test_seed_keeps_edited_sample_profiles(memory_session) -> None:
    from recruiter.catalogue.seed import SAMPLES

    first = import_profiles(SAMPLES / "profiles.json", actor=Actor.cli(), session=memory_session)
    assert first.saved
    profile = first.saved[0]
    amend_profile(profile, actor=Actor.cli(), session=memory_session, description="My own words")
    again = import_profiles(SAMPLES / "profiles.json", actor=Actor.cli(), session=memory_session)
    assert not again.saved and profile.name in again.skipped
    assert get_profile(profile.name, session=memory_session).description == "My own words"
