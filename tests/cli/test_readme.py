"""README.md is the CLI's contract with its users: every top-level command of `recruiter --help` is shown there as
`recruiter <command>` (in the spirit of sqlite-utils' `test_commands_are_documented`), and the settings a user
must know about are explained."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from recruiter.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def top_level_commands() -> list[str]:
    root = typer.main.get_command(app)
    return sorted(name for name, command in root.commands.items() if not command.hidden)


def test_the_app_has_commands() -> None:
    assert {"import", "export", "rank", "ui"} <= set(top_level_commands())


@pytest.mark.parametrize("command", top_level_commands())
def test_command_is_documented_in_the_readme(command: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(rf"(?m)\brecruiter {re.escape(command)}\b", text), (
        f"`recruiter {command}` is a top-level command (see `recruiter --help`) but README.md never shows "
        f"`recruiter {command}`: add a line for it to the CLI tour in README.md, e.g. "
        f"`recruiter {command} ...   # what it does`")


def test_recruiter_password_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("RECRUITER_PASSWORD"):][:1200]
    assert "login" in section and "every page" in section
    assert "loopback" in section or "127.0.0.1" in section
