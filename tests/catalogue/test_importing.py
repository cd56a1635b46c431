import json
from pathlib import Path

import pytest
from sqlmodel import select

from recruiter.catalogue.importing import RowError, normalize_record, parse_audience, read_rows, save_records
from recruiter.core.models import Community

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _urls(session) -> list[str]:
    return sorted(session.exec(select(Community.url)).all())


def test_csv_bad_rows_are_named_by_line_and_good_rows_kept(memory_session) -> None:
    rows = list(read_rows(FIXTURES / "communities.csv"))
    report = save_records(rows, session=memory_session)
    assert report.created == 4
    assert len(report.errors) == 2
    assert report.errors[0].startswith("line 3: invalid url")
    assert report.errors[1].startswith("line 5: audience_size 'lots' is not a number")
    espresso = memory_session.exec(select(Community).where(Community.url == "https://www.reddit.com/r/espresso/")).one()
    assert espresso.audience_size == 300_000
    assert espresso.kind == "subreddit"


def test_reimport_is_idempotent(memory_session) -> None:
    rows = list(read_rows(FIXTURES / "communities.csv"))
    save_records(rows, session=memory_session)
    before = [(c.url, c.description, c.last_seen, c.content_hash) for c in memory_session.exec(select(Community)).all()]
    again = save_records(list(read_rows(FIXTURES / "communities.csv")), session=memory_session)
    after = [(c.url, c.description, c.last_seen, c.content_hash) for c in memory_session.exec(select(Community)).all()]
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert before == after


def test_multiline_csv_field_keeps_line_numbers(tmp_path: Path, memory_session) -> None:
    path = tmp_path / "c.csv"
    path.write_text('url,description\nhttps://a.example.com,"two\nlines"\n,missing url\n')
    report = save_records(list(read_rows(path)), session=memory_session)
    assert report.created == 1
    assert report.errors == ["line 4: missing url"]


def test_json_list_reports_line_of_each_object(tmp_path: Path, memory_session) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps([
        {"link": "https://a.example.com", "title": "A", "about": "first"},
        {"url": 12, "name": "bad type"},
        {"url": "https://b.example.com", "followers": "1.5k", "summary": "second"},
    ], indent=2))
    report = save_records(list(read_rows(path)), session=memory_session)
    assert report.created == 2
    assert report.errors == ["line 7: url must be text, got int"]
    b = memory_session.exec(select(Community).where(Community.url == "https://b.example.com")).one()
    assert (b.audience_size, b.description) == (1500, "second")
    a = memory_session.exec(select(Community).where(Community.url == "https://a.example.com")).one()
    assert (a.name, a.title) == ("A", "A")


def test_json_object_with_a_list(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"communities": [\n {"url": "https://a.example.com"},\n {"url": "x"}\n]}')
    rows = list(read_rows(path))
    assert [r.line for r in rows] == [2, 3]


def test_jsonl_with_invalid_line(tmp_path: Path, memory_session) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"url": "https://a.example.com", "kind": "podcast"}\n\n{not json}\n'
                    '{"url": "https://b.example.com", "kind": "spaceship"}\n"just a string"\n')
    report = save_records(list(read_rows(path)), session=memory_session)
    assert report.created == 1
    assert report.errors[0].startswith("line 3: invalid JSON")
    assert report.errors[1].startswith("line 4: unknown kind 'spaceship'")
    assert report.errors[2] == "line 5: expected an object with a url, got str"


def test_opml_outlines(tmp_path: Path, memory_session) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text("""<?xml version="1.0"?>
<opml version="2.0"><head><title>Feeds</title></head><body>
  <outline text="Coffee">
    <outline type="rss" text="Sprudge" title="Sprudge" xmlUrl="https://sprudge.com/feed" htmlUrl="https://sprudge.com"/>
    <outline type="rss" text="No url"/>
  </outline>
  <outline type="podcast" text="Coffee Pod" xmlUrl="https://pod.example.com/rss.xml"/>
</body></opml>""")
    rows = list(read_rows(path))
    assert [r.line for r in rows] == [4, 7]
    report = save_records(rows, session=memory_session)
    assert report.created == 2
    sprudge = memory_session.exec(select(Community).where(Community.url == "https://sprudge.com")).one()
    assert (sprudge.name, sprudge.kind, sprudge.extra.get("category")) == ("Sprudge", "blog", "Coffee")
    assert sprudge.feed_url == "https://sprudge.com/feed"  # the site is the community, the feed is its feed
    pod = memory_session.exec(select(Community).where(Community.url == "https://pod.example.com/rss.xml")).one()
    assert pod.kind == "podcast"


def test_merge_never_erases_stored_values(memory_session) -> None:
    save_records([{"url": "https://a.example.com", "name": "A", "description": "rich", "audience_size": 10,
                   "emails": ["x@a.example.com"]}], session=memory_session)
    report = save_records([{"url": "https://A.example.com/", "name": "", "description": "", "audience_size": None,
                            "emails": ["y@a.example.com"]}], session=memory_session)
    a = memory_session.exec(select(Community)).one()
    assert report.updated == 1
    assert (a.name, a.description, a.audience_size) == ("A", "rich", 10)
    assert a.emails == ["x@a.example.com", "y@a.example.com"]


def test_tolerant_column_names() -> None:
    record = normalize_record({"Feed URL": "https://a.example.com/feed", "Title": "T", "About": "d",
                               "Subscriber Count": "2,000", "Emails": "a@x.com; mailto:B@x.com; nope"})
    assert record["url"] == "https://a.example.com/feed"
    assert (record.get("name"), record["title"], record["description"]) == (None, "T", "d")
    assert record["audience_size"] == 2000
    assert record["emails"] == ["a@x.com", "b@x.com"]


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), (12, 12), ("1.2M", 1_200_000),
                                                 ("3k", 3000), ("1,234", 1234), (5.0, 5)])
def test_parse_audience(value, expected) -> None:
    assert parse_audience(value) == expected


@pytest.mark.parametrize("value", ["abc", -3, True, [1], "-5"])
def test_parse_audience_rejects(value) -> None:
    with pytest.raises(RowError):
        parse_audience(value)


def test_wrong_types_are_row_errors() -> None:
    with pytest.raises(RowError, match="description must be text"):
        normalize_record({"url": "https://a.example.com", "description": {"x": 1}})
    with pytest.raises(RowError, match="recent_posts must be"):
        normalize_record({"url": "https://a.example.com", "recent_posts": 5})


def test_unparseable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("[\n{\"url\": \"https://a.example.com\"},\n{oops\n")
    rows = list(read_rows(path))
    assert isinstance(rows[-1].data, RowError) and rows[-1].line == 3
