"""Issue 15 through the CLI, as a new user drives it: a prospect's whole story, the double-contact refusal,
`rank` on an empty catalogue, tables that fit the terminal, thin-profile warnings and quiet broken pipes.

The deterministic hashing model stands in for the real one: none of these checks is about ranking quality.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recruiter.cli.common import render_table

RECRUITER = str(Path(sys.executable).with_name("recruiter"))
URL = "https://trailtalk.example.com/"
EMAIL = "editor@trailtalk.example.com"
LONG = ("Runners training for their first mountain ultramarathon who want shoes that grip on wet rock, "
        "poles that fold small, nutrition that sits well after six hours, and honest advice on pacing the "
        "long climbs; most of them run three or four times a week, race twice a year and buy gear online "
        "after reading long reviews written by people who ran the same races in the same weather.")


@pytest.fixture(autouse=True)
def hashing_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "communities.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["url", "name", "kind", "description", "emails"])
        writer.writerow([URL, "Trail Talk", "blog", "Stories from mountain ultramarathons and trail races", EMAIL])
        writer.writerow(["https://www.reddit.com/r/running/", "r/running", "subreddit",
                         "Road running, couch to 5k and marathon training", ""])
    return path


def test_prospect_show_tells_the_whole_story(cli, catalogue: Path) -> None:
    assert cli("import", catalogue).exit_code == 0
    unseen = json.loads(cli("prospect", "show", URL, "--format", "json").stdout)
    assert unseen["in_pipeline"] is False and unseen["stage"] is None and unseen["history"] == []
    assert json.loads(cli("prospect", "list", "--format", "json").stdout) == []  # looking created nothing

    assert cli("prospect", "set-stage", URL, "contacted").exit_code == 0
    noted = cli("prospect", "note", URL, "Wrote to the mods on Monday")
    assert noted.exit_code == 0, noted.output
    story = json.loads(cli("prospect", "show", URL, "--format", "json").stdout)
    assert story["stage"] == "contacted"
    assert [n["detail"] for n in story["notes"]] == ["Wrote to the mods on Monday"]
    assert EMAIL in story["emails"]
    assert [(h["from"], h["to"]) for h in story["history"]] == [(None, "discovered"), ("discovered", "contacted")]
    assert all(h["at"] for h in story["history"]) and story["first_contacted_at"]
    assert story["next_stages"] == ["replied", "declined"] and story["fit"] is None

    text = cli("prospect", "show", URL)
    assert text.exit_code == 0
    for expected in ("Stage: contacted", EMAIL, "Wrote to the mods on Monday", "discovered -> contacted",
                     "Next moves: replied, declined"):
        assert expected in text.stdout


def test_fit_and_follow_up_in_the_story(cli, catalogue: Path) -> None:
    cli("import", catalogue)
    cli("profile", "add", "--name", "ultra", "--description", LONG)
    assert cli("rank", "ultra", "--format", "json").exit_code == 0
    story = json.loads(cli("prospect", "show", URL, "--format", "json").stdout)
    assert story["fit"]["profile"] == "ultra" and story["fit"]["basis"] == "best"
    assert 0 <= story["fit"]["fit"] <= 100 and story["fit"]["why"]
    assert cli("prospect", "set-stage", URL, "shortlisted", "--profile", "ultra").exit_code == 0
    assert cli("prospect", "follow-up", URL, "7d").exit_code == 0
    story = json.loads(cli("prospect", "show", URL, "--format", "json").stdout)
    assert story["fit"]["basis"] == "prospect" and story["profile"] == "ultra"
    assert story["next_follow_up"] and [a["kind"] for a in story["activities"]][0] == "follow_up"
    assert cli("prospect", "follow-up", URL, "someday").exit_code == 2
    assert cli("prospect", "follow-up", URL, "clear").exit_code == 0
    assert json.loads(cli("prospect", "show", URL, "--format", "json").stdout)["next_follow_up"] is None


def test_an_empty_note_is_refused_and_creates_nothing(cli, catalogue: Path) -> None:
    cli("import", catalogue)
    result = cli("prospect", "note", URL, "   ")
    assert result.exit_code == 2 and "a note needs text" in result.output
    assert json.loads(cli("prospect", "list", "--format", "json").stdout) == []


def test_contacting_a_prospect_that_replied_is_refused(cli, catalogue: Path) -> None:
    cli("import", catalogue)
    assert cli("prospect", "set-stage", URL, "contacted").exit_code == 0
    assert cli("prospect", "set-stage", URL, "replied").exit_code == 0
    refused = cli("prospect", "set-stage", URL, "contacted")
    assert refused.exit_code != 0
    assert "already replied" in refused.output and "--force" in refused.output
    assert "Traceback" not in refused.output
    assert json.loads(cli("prospect", "show", URL, "--format", "json").stdout)["stage"] == "replied"
    forced = cli("prospect", "set-stage", URL, "contacted", "--force")
    assert forced.exit_code == 0
    assert json.loads(cli("prospect", "show", URL, "--format", "json").stdout)["stage"] == "contacted"


def test_rank_on_an_empty_catalogue_says_how_to_fill_it(cli) -> None:
    assert cli("profile", "add", "--name", "ultra", "--description", LONG).exit_code == 0
    result = cli("rank", "ultra")
    assert result.exit_code != 0
    assert "import" in result.output and "seed" in result.output and result.stdout == ""


def test_profile_list_fits_the_terminal(cli) -> None:
    for name in ("trail runners", "yoga at home", "home bakers"):
        description = (LONG * 2)[:400]
        assert cli("profile", "add", "--name", name, "--description", description, "--keyword", "ultra",
                   "--example", "https://www.reddit.com/r/trailrunning/").exit_code == 0
    from typer.testing import CliRunner

    from recruiter.cli import app

    result = CliRunner().invoke(app, ["profile", "list"], env={"COLUMNS": "100"})
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and 3 < len(lines) <= 12, result.stdout
    assert max(len(line) for line in lines) <= 100, result.stdout
    assert all(name in result.stdout for name in ("trail runners", "yoga at home", "home bakers"))
    assert "…" in result.stdout  # descriptions cut, not wrapped
    whole = json.loads(cli("profile", "list", "--format", "json").stdout)
    assert [len(p["description"]) for p in whole] == [400, 400, 400]


def test_render_table_shares_width_and_aligns_numbers() -> None:
    rows = [{"name": "r/running", "kind": "subreddit", "fit": 7, "why": "x" * 300},
            {"name": "日本のランナー", "kind": "forum", "fit": 100, "why": "short\nwith a newline"}]
    text = render_table(rows, ["name", "kind", "fit", "why"], width=60)
    lines = text.splitlines()
    from rich.cells import cell_len

    assert len(lines) == 4 and all(cell_len(line) <= 60 for line in lines)
    assert lines[2].startswith("r/running") and "subreddit" in lines[2]  # narrow columns whole
    assert lines[2].rstrip().endswith("…") and "with a newline" in lines[3]
    assert "    7" in lines[2] and "  100" in lines[3]  # right-aligned
    wide = render_table(rows[:1], ["name", "fit"], width=200).splitlines()
    assert wide[0] == "name       fit" and wide[2] == "r/running    7"


def test_thin_profiles_get_a_warning(cli) -> None:
    bare = cli("profile", "add", "--name", "yoga")
    assert bare.exit_code == 0 and "warning: no description" in bare.stderr
    short = cli("profile", "add", "--name", "shoes", "--description", "trail shoes")
    assert "only 2 words" in short.stderr
    full = cli("profile", "add", "--name", "ultra", "--description", LONG)
    assert full.exit_code == 0 and "warning" not in full.stderr


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RECRUITER_HOME": str(home), "RECRUITER_MODEL": "hashing"}
    env.pop("RECRUITER_DB", None)
    return subprocess.run([RECRUITER, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["url", "name", "kind", "description"])
        for i in range(800):
            writer.writerow([f"https://blog{i}.example.com/", f"Blog {i}", "blog", LONG])
    home = tmp_path / "home"
    imported = _run(home, "import", str(big))
    assert imported.returncode == 0, imported.stderr
    env = {**os.environ, "RECRUITER_HOME": str(home), "RECRUITER_MODEL": "hashing"}
    env.pop("RECRUITER_DB", None)
    for fmt in ("json", "jsonl", "csv"):
        process = subprocess.Popen([RECRUITER, "export", "--format", fmt], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        assert process.stdout.readline()
        process.stdout.close()  # what `| head -1` does once it has its line
        error = process.stderr.read().decode()
        process.stderr.close()
        assert process.wait(timeout=120) == 0, (fmt, error)
        assert error == "", (fmt, error)
    piped = subprocess.run(["bash", "-o", "pipefail", "-c", f"'{RECRUITER}' export | head -1"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stdout.strip() == "[" and piped.stderr == ""


def test_a_huge_note_is_refused_and_web_text_cannot_drive_the_terminal(cli, tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(f"url,name,kind\n{URL},\"Trail\x1b[2J\x1b]0;owned\x07 Talk\",blog\n", encoding="utf-8")
    assert cli("import", path).exit_code == 0
    huge = cli("prospect", "note", URL, "x" * 20_001)
    assert huge.exit_code == 2 and "at most 20,000 characters" in huge.output
    assert json.loads(cli("prospect", "list", "--format", "json").stdout) == []
    cli("prospect", "note", URL, "fine")
    for output in (cli("prospect", "show", URL).stdout, cli("prospect", "list").stdout):
        assert "\x1b" not in output and "\x07" not in output and "Trail?[2J" in output
    assert "\x1b" in json.loads(cli("prospect", "show", URL, "--format", "json").stdout)["name"]  # data kept whole


@pytest.mark.postgres
def test_story_board_and_funnel_on_postgres(postgres_url, catalogue: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The read models use window functions, CASE and escaped LIKE: the same answers on PostgreSQL."""
    from typer.testing import CliRunner

    from recruiter.cli import app
    from recruiter.core.db import open_session
    from recruiter.outreach.dashboard import board, follow_ups, funnel, recent_activity

    monkeypatch.setenv("RECRUITER_DB", postgres_url)
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    assert cli("import", catalogue).exit_code == 0
    cli("profile", "add", "--name", "ultra-pg", "--description", LONG)
    assert cli("rank", "ultra-pg", "--format", "json").exit_code == 0
    assert cli("prospect", "set-stage", URL, "contacted", "--profile", "ultra-pg").exit_code == 0
    assert cli("prospect", "note", URL, "Wrote to the mods on Monday").exit_code == 0
    assert cli("prospect", "follow-up", URL, "2d").exit_code == 0
    assert cli("prospect", "set-stage", "https://www.reddit.com/r/running/", "declined").exit_code == 0
    story = json.loads(cli("prospect", "show", URL, "--format", "json").stdout)
    assert story["stage"] == "contacted" and story["fit"]["basis"] == "prospect" and story["history"]
    with open_session(postgres_url) as session:
        cards = board(session=session, text="TRAIL").columns["contacted"]
        assert [c.name for c in cards] == ["Trail Talk"] and cards[0].last_activity.startswith("note:")
        assert board(session=session, text="50%_").empty and board(session=session, kind="subreddit").totals[
            "declined"] == 1
        data = funnel(session=session)
        assert data.steps[2].stage == "contacted" and data.steps[2].reached == 1
        assert (data.declined, data.declined_before_contact) == (1, 1)
        assert [(f.name, f.when) for f in follow_ups(session=session)] == [("Trail Talk", "in 2 d")]
        assert recent_activity(session=session)[0].name in ("Trail Talk", "r/running")
