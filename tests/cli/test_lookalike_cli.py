"""Issue 23 through the CLI: `recruiter lookalike` as a merchant drives it, on the small three-niche catalogue of
`tests/support/lookalike_catalogue.py` (sourdough baking, trail running, kubernetes).

The fast tests run on the deterministic hashing model; the last one asks for `embedding_service` and runs the
real all-MiniLM-L6-v2 (marked slow).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from lookalike_catalogue import CATALOGUE, KUBERNETES, RUNNING, SOURDOUGH, niche, write_csv

from recruiter.core.models import utcnow

FIELDS = {"url", "name", "kind", "audience_size", "score", "like", "why"}
BREAD = [SOURDOUGH[0][0], SOURDOUGH[2][0], SOURDOUGH[3][0]]  # r/Sourdough, Crumb and Crust, Levain Lab
TRAIL = [RUNNING[0][0], RUNNING[2][0], RUNNING[3][0]]  # r/trailrunning, Singletrack Stories, Vert Meters

# Five joined partners. All time, three earn the most (ONE, TWO, THREE); the two others have the most clicks;
# in the last 30 days only THREE, FOUR and FIVE did anything.
ONE, TWO, THREE = SOURDOUGH[0][0], RUNNING[0][0], KUBERNETES[0][0]  # r/Sourdough, r/trailrunning, r/kubernetes
FOUR, FIVE = SOURDOUGH[2][0], RUNNING[3][0]  # Crumb and Crust, Vert Meters
PARTNERS = [ONE, TWO, THREE, FOUR, FIVE]


def _day(days_ago: int) -> str:
    return (utcnow().date() - timedelta(days=days_ago)).isoformat()


def seeds(*urls: str) -> list[str]:
    return [arg for url in urls for arg in ("--seed", url)]


def rows_of(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def canonical(url: str) -> str:
    """How the catalogue stores a URL (subreddits lower-cased, no trailing slash on a site's root)."""
    return url.lower().rstrip("/") + ("/" if "reddit.com" in url else "")


def like_urls(rows: list[dict]) -> set[str]:
    return {url for row in rows for url in row["like"]}


@pytest.fixture
def catalogue(cli, tmp_path: Path):
    imported = cli("import", write_csv(tmp_path / "communities.csv"))
    assert imported.exit_code == 0, imported.output
    return cli


@pytest.fixture
def partners(catalogue, tmp_path: Path):
    cli = catalogue
    for url in PARTNERS:
        assert cli("prospect", "set-stage", url, "joined").exit_code == 0
    performance = tmp_path / "performance.csv"
    performance.write_text(
        "Date,Partner,Clicks,Sales,Revenue\n"
        f"{_day(90)},{ONE},100,50,5000\n"
        f"{_day(90)},{TWO},100,40,4000\n"
        f"{_day(5)},{THREE},200,30,3000\n"
        f"{_day(5)},{FOUR},5000,5,200\n"
        f"{_day(5)},{FIVE},4000,10,500\n")
    imported = cli("performance", "import", performance, "--map", "partner=Partner", "--map", "conversions=Sales")
    assert imported.exit_code == 0 and "5 kept" in imported.output, imported.output
    return cli


# --- the rows ------------------------------------------------------------------------------------------------

def test_json_rows_keep_the_contract(catalogue) -> None:
    rows = rows_of(catalogue("lookalike", *seeds(*BREAD), "--limit", "8", "--format", "json"))
    assert len(rows) == 8
    for row in rows:
        assert set(row) == FIELDS
        assert isinstance(row["score"], int) and not isinstance(row["score"], bool) and 0 <= row["score"] <= 100
        assert isinstance(row["like"], list) and row["like"] and set(row["like"]) <= {canonical(u) for u in BREAD}
        assert row["why"].startswith("like ") and isinstance(row["name"], str) and row["kind"] in {
            "blog", "podcast", "subreddit", "youtube", "newsletter", "forum", "other"}
        assert row["audience_size"] is None or isinstance(row["audience_size"], int)
        assert niche(row["url"]) == "sourdough"
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert not {r["url"] for r in rows} & {canonical(u) for u in BREAD}  # never a seed


def test_csv_and_table_formats(catalogue, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # the table fits the terminal: make it one wide enough for every header
    args = ("lookalike", *seeds(*BREAD, *TRAIL), "--limit", "10")
    as_json = rows_of(catalogue(*args, "--format", "json"))
    result = catalogue(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == ["url", "name", "kind", "audience_size", "score", "like", "why"]
    rows = list(reader)
    assert [r["url"] for r in rows] == [r["url"] for r in as_json]
    assert [r["like"] for r in rows] == [" ".join(r["like"]) for r in as_json]  # space-joined
    assert any(" " in r["like"] for r in rows)  # some result is like two seeds
    assert [int(r["score"]) for r in rows] == [r["score"] for r in as_json]

    table = catalogue(*args)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["url", "name", "kind", "audience_size", "score", "like", "why"]
    assert len(lines) == 2 + len(as_json)  # header, rule, one line a result
    for line, row in zip(lines[2:], as_json, strict=True):
        assert row["name"][:10] in line


def test_an_empty_result_says_so_in_the_table_and_is_an_empty_list_in_json(catalogue) -> None:
    assert rows_of(catalogue("lookalike", *seeds(*BREAD), "--kind", "other", "--format", "json")) == []
    table = catalogue("lookalike", *seeds(*BREAD), "--kind", "other")
    assert table.exit_code == 0 and "nothing like these yet" in table.output


def test_two_niches_and_the_pipeline(catalogue) -> None:
    rows = rows_of(catalogue("lookalike", *seeds(*BREAD, *TRAIL), "--limit", "10", "--format", "json"))
    found = [niche(r["url"]) for r in rows]
    assert found.count("sourdough") >= 3 and found.count("running") >= 3, found
    worked, rejected = rows[0]["url"], rows[1]["url"]
    assert catalogue("prospect", "set-stage", worked, "contacted").exit_code == 0
    assert catalogue("prospect", "set-stage", rejected, "declined").exit_code == 0
    again = {r["url"] for r in rows_of(catalogue("lookalike", *seeds(*BREAD, *TRAIL), "--format", "json"))}
    assert worked not in again and rejected not in again
    known = {r["url"] for r in rows_of(catalogue("lookalike", *seeds(*BREAD, *TRAIL), "--include-known",
                                                 "--format", "json"))}
    assert worked in known and rejected not in known  # declined: never returned


def test_kind_and_profile(catalogue) -> None:
    podcasts = rows_of(catalogue("lookalike", *seeds(*BREAD, *TRAIL), "--kind", "podcast", "--format", "json"))
    assert podcasts and {r["kind"] for r in podcasts} == {"podcast"}
    added = catalogue("profile", "add", "--name", "ultra", "--description",
                      "Trail running shoes for ultramarathon runners in mountain races.")
    assert added.exit_code == 0, added.output
    rows = rows_of(catalogue("lookalike", *seeds(*BREAD, *TRAIL), "--profile", "ultra", "--limit", "5",
                             "--format", "json"))
    assert [niche(r["url"]) for r in rows] == ["running"] * 5
    assert all(r["why"].endswith("ranked with your profile too") for r in rows)


# --- seeds from scorecards -----------------------------------------------------------------------------------

def test_from_top_three_by_revenue_names_exactly_those_three_and_returns_none_of_them(partners) -> None:
    rows = rows_of(partners("lookalike", "--from-top", "3", "--by", "revenue", "--format", "json"))
    top = {canonical(u) for u in (ONE, TWO, THREE)}
    assert rows
    assert like_urls(rows) == top  # every `like` URL is one of the three, and all three appear
    assert not {r["url"] for r in rows} & top
    assert not {r["url"] for r in rows} & {canonical(u) for u in PARTNERS}  # partners are past discovered
    assert {niche(r["url"]) for r in rows} == {"sourdough", "running", "kubernetes"}
    # With --include-known the other partners may come back, the seeds never.
    known = rows_of(partners("lookalike", "--from-top", "3", "--by", "revenue", "--include-known",
                             "--limit", "100", "--format", "json"))
    assert {canonical(FOUR), canonical(FIVE)} <= {r["url"] for r in known}
    assert not {r["url"] for r in known} & top


def test_from_top_by_another_measure_or_since_a_date_picks_other_seeds(partners) -> None:
    by_clicks = rows_of(partners("lookalike", "--from-top", "2", "--by", "clicks", "--format", "json"))
    assert like_urls(by_clicks) == {canonical(FOUR), canonical(FIVE)}
    recent = rows_of(partners("lookalike", "--from-top", "2", "--by", "revenue", "--since", "30d",
                              "--format", "json"))
    assert like_urls(recent) == {canonical(THREE), canonical(FIVE)}
    since_date = rows_of(partners("lookalike", "--from-top", "2", "--since", _day(30), "--format", "json"))
    assert like_urls(since_date) == like_urls(recent)  # --by revenue is the default
    by_conversions = rows_of(partners("lookalike", "--from-top", "1", "--by", "conversions", "--format", "json"))
    assert like_urls(by_conversions) == {canonical(ONE)}
    by_epc = rows_of(partners("lookalike", "--from-top", "2", "--by", "epc", "--format", "json"))
    assert like_urls(by_epc) == {canonical(ONE), canonical(TWO)}
    # Asking for more than there are partners with any of it: those that have some.
    everyone = rows_of(partners("lookalike", "--from-top", "20", "--by", "revenue", "--since", "30d",
                                "--format", "json"))
    assert like_urls(everyone) <= {canonical(THREE), canonical(FOUR), canonical(FIVE)}


def test_seeds_from_scorecards_are_weighted_by_performance(partners) -> None:
    # In the last 30 days THREE (kubernetes) earned 3000 and FIVE (running) 500: THREE's niche gets more of the
    # list, FIVE's still a place.
    rows = rows_of(partners("lookalike", "--from-top", "2", "--since", "30d", "--limit", "10", "--format", "json"))
    found = [niche(r["url"]) for r in rows]
    assert found.count("kubernetes") > found.count("running") >= 1, found
    # By clicks FIVE (4000) is near FOUR (5000): two niches of about the same weight.
    even = [niche(r["url"]) for r in rows_of(partners("lookalike", "--from-top", "2", "--by", "clicks",
                                                          "--limit", "10", "--format", "json"))]
    assert abs(even.count("sourdough") - even.count("running")) <= 2, even


def test_segment_top(partners) -> None:
    # In the last 30 days THREE, FOUR and FIVE were active and THREE earned the most: the top fifth is THREE.
    report = {r["url"]: r["segment"] for r in json.loads(partners("report", "partners", "--format", "json").stdout)}
    assert [u for u, s in report.items() if s == "top"] == [canonical(THREE)]
    rows = rows_of(partners("lookalike", "--segment", "top", "--limit", "5", "--format", "json"))
    assert like_urls(rows) == {canonical(THREE)}
    assert [niche(r["url"]) for r in rows] == ["kubernetes"] * 5
    dormant = rows_of(partners("lookalike", "--segment", "dormant", "--format", "json"))
    assert like_urls(dormant) == {canonical(ONE), canonical(TWO)}
    assert partners("prospect", "set-stage", KUBERNETES[4][0], "joined").exit_code == 0  # Cluster Ops, no sales
    fresh = rows_of(partners("lookalike", "--segment", "never-activated", "--limit", "3", "--format", "json"))
    assert like_urls(fresh) == {canonical(KUBERNETES[4][0])}


# --- refusals ------------------------------------------------------------------------------------------------

def refused(result, *fragments: str) -> None:
    """Exit code 2, nothing on stdout, no traceback, and one error line that names the problem."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout.strip() == ""
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


TWENTY_ONE = [u for u, *_ in CATALOGUE[:21]]


@pytest.mark.parametrize("args, fragments", [
    (seeds("https://nowhere.example.com/"), ["--seed https://nowhere.example.com/", "not in your catalogue"]),
    (seeds(BREAD[0], "https://nowhere.example.com/blog"), ["https://nowhere.example.com/blog"]),
    ([], ["give exactly one of --seed URL", "--from-top N", "--segment NAME"]),
    ([*seeds(BREAD[0]), "--segment", "top"], ["give exactly one of"]),
    ([*seeds(BREAD[0]), "--from-top", "3"], ["give exactly one of"]),
    (["--from-top", "3", "--segment", "top"], ["give exactly one of"]),
    (seeds(*TWENTY_ONE), ["21 seeds", "at most 20"]),
    (["--segment", "vip"], ["--segment vip", "top, rising, steady, dormant, never-activated"]),
    (["--segment", "top"], ["no partner is in the 'top' segment"]),
    (["--from-top", "3", "--by", "likes"], ["--by likes", "revenue, conversions, epc, clicks"]),
    (["--from-top", "3"], ["no partner has any revenue yet", "performance import"]),
    (["--from-top", "3", "--by", "clicks", "--since", "30d"], ["no partner has any clicks since"]),
    (["--from-top", "21"], ["--from-top"]),
    (["--from-top", "0"], ["--from-top"]),
    (["--from-top", "2", "--since", "last tuesday"], ["last tuesday", "not a date"]),
    ([*seeds(BREAD[0]), "--profile", "nope"], ["no profile named 'nope'"]),
    ([*seeds(BREAD[0]), "--kind", "tiktok"], ["'tiktok' is not one of", "podcast"]),
    ([*seeds(BREAD[0]), "--format", "xml"], ["'xml' is not one of table, json, csv"]),
    ([*seeds(BREAD[0]), "--limit", "0"], ["--limit"]),
    (["--segment", "top", "--by", "clicks"], ["--by goes with --from-top"]),
    ([*seeds(BREAD[0]), "--since", "30d"], ["--since goes with --from-top"]),
], ids=["unknown-seed", "one-seed-unknown", "no-source", "seed-and-segment", "seed-and-top", "top-and-segment",
        "21-seeds", "unknown-segment", "empty-segment", "bad-by", "no-performance", "no-performance-since",
        "top-21", "top-0", "bad-since", "unknown-profile", "bad-kind", "bad-format", "limit-0",
        "by-without-top", "since-without-top"])
def test_bad_input_is_one_clear_line_with_exit_code_2(catalogue, args, fragments) -> None:
    refused(catalogue("lookalike", *args), *fragments)


def test_one_to_twenty_seeds_in_any_url_form(catalogue) -> None:
    one = rows_of(catalogue("lookalike", "--seed", "https://reddit.com/r/Sourdough", "--limit", "3",
                            "--format", "json"))
    assert [r["like"] for r in one] == [[canonical(SOURDOUGH[0][0])]] * 3
    twenty = rows_of(catalogue("lookalike", *seeds(*TWENTY_ONE[:20]), "--limit", "50", "--format", "json"))
    assert twenty and not {r["url"] for r in twenty} & {canonical(u) for u in TWENTY_ONE[:20]}
    assert len(twenty) == len(CATALOGUE) - 20


def test_the_same_seed_given_twice_counts_once(catalogue) -> None:
    repeated = [*TWENTY_ONE[:20], TWENTY_ONE[0]]  # 21 arguments, 20 seeds
    rows = rows_of(catalogue("lookalike", *seeds(*repeated), "--limit", "3", "--format", "json"))
    assert len(rows) == 3 and not {r["url"] for r in rows} & {canonical(u) for u in repeated}


def test_an_unknown_seed_on_an_empty_catalogue_is_refused_too(cli) -> None:
    refused(cli("lookalike", *seeds(BREAD[0])), BREAD[0], "not in your catalogue")


def test_help_documents_every_option(cli) -> None:
    result = cli("lookalike", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for option in ("--seed", "--from-top", "--by", "--since", "--segment", "--profile", "--limit", "--kind",
                   "--include-known", "--format"):
        assert option in text, option
    for word in ("revenue", "conversions", "epc", "clicks", "table", "json", "csv", "up to 20", "past discovered",
                 "declined", "not a fit", "like", "why"):
        assert word in text, word
    assert "lookalike" in cli("--help").output


# --- the real model ------------------------------------------------------------------------------------------

def test_two_niches_with_the_real_model(cli, embedding_service, tmp_path: Path) -> None:
    assert cli("import", write_csv(tmp_path / "communities.csv")).exit_code == 0
    rows = rows_of(cli("lookalike", *seeds(*BREAD, *TRAIL), "--limit", "10", "--format", "json"))
    found = [niche(r["url"]) for r in rows]
    assert found.count("sourdough") >= 3 and found.count("running") >= 3, found
    assert found.count("sourdough") + found.count("running") >= 8, found
    assert not {r["url"] for r in rows} & {canonical(u) for u in BREAD + TRAIL}
    assert all(set(r["like"]) <= {canonical(u) for u in BREAD + TRAIL} for r in rows)
