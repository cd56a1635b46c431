"""The partner commands' other paths: platforms, activation, playbooks, funnel, trend, kinds, errors."""

import json
from datetime import timedelta

import pytest

from recruiter.core.models import Community, utcnow

ANNA, POD = "https://anna.example.com", "https://pod.example.com"


@pytest.fixture
def program(cli, session):
    for url, name, kind in [(ANNA, "Anna", "blog"), (POD, "Pod", "podcast")]:
        session.add(Community(url=url, name=name, kind=kind))
    session.commit()
    assert cli("prospect", "set-stage", ANNA, "joined").exit_code == 0
    assert cli("prospect", "set-stage", POD, "joined").exit_code == 0
    return cli


def test_platform_commands(cli) -> None:
    listed = json.loads(cli("platform", "list", "--format", "json").stdout)
    assert {p["key"] for p in listed} >= {"rewardful", "utm", "dub"} and not any(p["chosen"] for p in listed)
    shown = cli("platform", "show", "tapfiliate")
    assert "?ref={ref_code}" in shown.output and "Sources (as of" in shown.output
    assert json.loads(cli("platform", "show", "dub", "--format", "json").stdout)["as_of"]
    assert cli("platform", "show", "nope").exit_code == 2
    assert "?fpr={ref_code}" in cli("platform", "choose", "firstpromoter").output
    listed = json.loads(cli("platform", "list", "--format", "json").stdout)
    assert [p["key"] for p in listed if p["chosen"]] == ["firstpromoter"]


def test_link_follows_the_chosen_platform_and_refuses_unknowns(program) -> None:
    program("platform", "choose", "rewardful")
    link = json.loads(program("link", ANNA, "-d", "shop.example.com/mats", "--format", "json").stdout)
    assert link["tracked_url"] == f"https://shop.example.com/mats?via={link['ref_code']}"
    own = json.loads(program("link", POD, "-d", "https://shop.example.com", "--ref-code", "POD10",
                             "--format", "json").stdout)
    assert own["ref_code"] == "pod10"
    unknown = program("link", "https://nobody.example.com", "-d", "https://shop.example.com")
    assert unknown.exit_code == 2 and "no community with URL" in unknown.output
    bad = program("link", ANNA, "-d", "ftp://shop.example.com")
    assert bad.exit_code == 2 and "http(s)" in bad.output


def test_activation_commands(program) -> None:
    assert "merchant name: Mat & Mind" in program("activation", "merchant", "Mat & Mind").output
    done = program("activation", "done", ANNA, "welcome_sent", "--note", "by email")
    assert done.exit_code == 0 and "welcome_sent done (joined)" in done.output
    shown = program("activation", "show", ANNA)
    assert "[x] Welcome sent" in shown.output and "Next: link_created" in shown.output
    assert "Mat & Mind" in program("activation", "template", "welcome_sent", ANNA).output
    assert program("activation", "done", ANNA, "nonsense").exit_code == 2
    rows = json.loads(program("activation", "list", "--format", "json").stdout)
    assert {r["name"]: r["progress"] for r in rows} == {"Anna": "1/5", "Pod": "0/5"}
    reminders = json.loads(program("activation", "reminders", "--days", "0", "--format", "json").stdout)
    assert {r["name"]: r["step"] for r in reminders} == {"Anna": "link_created", "Pod": "welcome_sent"}
    promoted = program("activation", "done", POD, "first_promotion")
    assert "(activated)" in promoted.output
    assert "unticked" in program("activation", "done", ANNA, "welcome_sent", "--undo").output
    stats = program("activation", "stats")
    assert "2 partners: 1 promoted (50 %), 0 sold (0 %)" in stats.output
    assert json.loads(program("activation", "stats", "--format", "json").stdout)["partners"] == 2


def test_reports_and_performance_listing(program, tmp_path) -> None:
    day = (utcnow().date() - timedelta(days=2)).isoformat()
    export = tmp_path / "export.csv"
    export.write_text(f"Date,Partner,Clicks,Conversions,Revenue,Commission\n{day},{POD},100,4,400,40\n")
    assert program("performance", "import", export, "--format", "json").exit_code == 0
    rows = json.loads(program("performance", "list", "--format", "json").stdout)
    assert rows == [{"date": day, "url": POD, "name": "Pod", "platform": "utm", "clicks": 100, "conversions": 4,
                     "revenue": 400.0, "commission": 40.0, "source_file": "export.csv"}]
    kinds = json.loads(program("report", "kinds", "--format", "json").stdout)
    assert kinds[0]["kind"] == "podcast" and kinds[0]["revenue_per_partner"] == 400
    funnel = {r["stage"]: r for r in json.loads(program("report", "funnel", "--format", "json").stdout)}
    assert funnel["performing"]["reached"] == 1 and funnel["joined"]["reached"] == 2
    trend = json.loads(program("report", "trend", "--by", "day", "--periods", "3", "--format", "json").stdout)
    assert [t["clicks"] for t in trend] == [100, 0, 0]
    book = program("report", "playbook", "never-activated", "--partner", ANNA)
    assert "Partners in never-activated: Anna" in book.output
    assert program("report", "partners", "--since", "last tuesday").exit_code != 0
    assert json.loads(program("report", "partners", "--since", "7d", "--format", "json").stdout)[0]["clicks"] == 100
    assert program("report", "partners", "--segment", "vip").exit_code == 2


def test_performance_import_errors_are_one_line(program, tmp_path) -> None:
    missing = program("performance", "import", tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "no such file" in missing.output
    export = tmp_path / "export.csv"
    export.write_text("When,Who,Visits\n2026-01-01,Anna,3\n")
    bad_map = program("performance", "import", export, "--map", "clicks")
    assert bad_map.exit_code == 2 and "expected FIELD=Column" in bad_map.output
    no_date = program("performance", "import", export)
    assert no_date.exit_code == 2 and "no date or partner column found" in no_date.output
    mapped = program("performance", "import", export, "--map", "date=When", "--map", "partner=Who",
                     "--map", "clicks=Visits")
    assert mapped.exit_code == 0 and "1 kept" in mapped.output
    everything_bad = tmp_path / "bad.csv"
    everything_bad.write_text("Date,Partner,Clicks\n2026-01-01,ghost,3\n")
    assert program("performance", "import", everything_bad).exit_code == 1
