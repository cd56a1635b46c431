"""The CLI as a new user drives it (typer's CliRunner, in-process, a fresh database per test)."""

import json
from pathlib import Path

import pytest

from recruiter.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _all_commands():
    import typer.main

    root = typer.main.get_command(app)

    def walk(command, path):
        yield path, command
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])

    return list(walk(root, []))


@pytest.mark.parametrize("path", [p for p, _ in _all_commands()], ids=lambda p: " ".join(p) or "recruiter")
def test_every_command_has_help_with_an_example(cli, path) -> None:
    command = dict((tuple(p), c) for p, c in _all_commands())[tuple(path)]
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    if not hasattr(command, "commands") or not path:
        assert "Example" in result.output, f"{' '.join(path)} --help has no example"


def test_import_export_round_trip(cli) -> None:
    first = cli("import", FIXTURES / "communities.csv")
    assert first.exit_code == 0
    assert "line 3: " in first.output and "line 5: " in first.output
    exported = json.loads(cli("export", "--format", "json").output)
    assert len(exported) == 4 and all("url" in row for row in exported)
    second = cli("import", FIXTURES / "communities.csv")
    assert second.exit_code == 0 and "0 new" in second.output
    assert json.loads(cli("export", "--format", "json").output) == exported
    csv_out = cli("export", "--format", "csv", "--kind", "subreddit").output.splitlines()
    assert csv_out[0].startswith("url,kind,name") and len(csv_out) == 3


def test_import_of_nothing_good_fails(cli, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("url,name\nnope,x\n")
    result = cli("import", bad)
    assert result.exit_code == 1 and "line 2: invalid url" in result.output
    missing = cli("import", tmp_path / "missing.csv")
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_profiles_and_rank(cli, tmp_path) -> None:
    cli("import", FIXTURES / "communities.csv")
    added = cli("profile", "add", "--name", "plants", "--description",
                "Rare houseplants, grow lights and potting soil for urban plant lovers.",
                "--keyword", "houseplants", "--exclude", "espresso",
                "--example", "https://youtube.com/@PlantOneOnMe")
    assert added.exit_code == 0, added.output
    shown = json.loads(cli("profile", "show", "plants").output)
    assert shown["examples"] == ["https://www.youtube.com/@plantoneonme"]
    result = cli("rank", "plants", "--limit", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [set(r) for r in rows][0] == {"url", "name", "kind", "audience_size", "score", "fit", "why"}
    assert rows[0]["url"] in ("https://www.reddit.com/r/houseplants/", "https://www.youtube.com/@plantoneonme")
    assert "https://www.reddit.com/r/espresso/" not in [r["url"] for r in rows[:2]]
    assert all(0 <= r["fit"] <= 100 for r in rows) and rows[0]["why"]
    only = json.loads(cli("rank", "plants", "--kind", "youtube", "--format", "json").output)
    assert [r["kind"] for r in only] == ["youtube"]
    big = json.loads(cli("rank", "plants", "--min-audience", "1000000", "--format", "json").output)
    assert [r["name"] for r in big] == ["r/houseplants"]
    exported = cli("profile", "export").output
    path = tmp_path / "profiles.json"
    path.write_text(exported)
    assert cli("profile", "delete", "plants", "--yes").exit_code == 0
    assert cli("profile", "import", path).exit_code == 0
    assert "plants" in cli("profile", "list").output


def test_rank_unknown_profile_names_the_known_ones(cli) -> None:
    cli("profile", "add", "--name", "coffee", "--description", "Espresso gear")
    result = cli("rank", "nope")
    assert result.exit_code == 2 and "coffee" in result.output


def test_prospect_stages_survive_reranking(cli) -> None:
    cli("import", FIXTURES / "communities.csv")
    cli("profile", "add", "--name", "plants", "--description", "Houseplant shop")
    url = "https://www.reddit.com/r/HousePlants"
    assert cli("prospect", "set-stage", url, "contacted", "--note", "DM sent").exit_code == 0
    cli("rank", "plants", "--format", "json")
    rows = json.loads(cli("prospect", "list", "--format", "json").output)
    assert rows[0]["stage"] == "contacted" and rows[0]["notes"] == "DM sent"
    assert cli("prospect", "set-stage", url, "flying").exit_code == 2
    assert cli("prospect", "set-stage", "https://unknown.example.com", "contacted").exit_code == 2
    assert json.loads(cli("prospect", "list", "--stage", "joined", "--format", "json").output) == []


def test_index_rebuild_and_status(cli) -> None:
    cli("import", FIXTURES / "communities.csv")
    rebuilt = cli("index", "rebuild")
    assert rebuilt.exit_code == 0 and "4 communities, 0 embedded" in rebuilt.output
    assert "in sync" in cli("index", "status").output


def test_db_option_takes_any_sqlalchemy_url(cli, tmp_path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    cli("--db", other, "import", FIXTURES / "communities.csv")
    assert len(json.loads(cli("--db", other, "export").output)) == 4
    assert (tmp_path / "other.db").exists()


def test_ui_refuses_public_host_without_password(cli, monkeypatch) -> None:
    monkeypatch.delenv("RECRUITER_PASSWORD", raising=False)
    result = cli("ui", "--host", "0.0.0.0")
    assert result.exit_code != 0 and "RECRUITER_PASSWORD" in result.output


def test_seed_if_empty(cli) -> None:
    first = cli("seed", "--if-empty")
    assert first.exit_code == 0
    assert "already" in cli("seed", "--if-empty").output or "no sample" in first.output


def test_help_lists_every_command_in_the_order_of_the_work(cli) -> None:
    import typer.main

    from recruiter.cli import app
    from recruiter.cli.root import ORDER

    listed = [line.split()[0] for line in cli("--help").output.split("Commands:")[1].splitlines() if line.strip()]
    registered = set(typer.main.get_command(app).commands)
    assert set(listed) == registered and set(ORDER) == registered  # a new command gets its place in ORDER
    assert listed == ORDER
