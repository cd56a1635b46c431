"""Performance imports: columns, bad rows, idempotence, overlapping exports, stage moves."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from recruiter.accounts.roles import Actor
from recruiter.catalogue.importing import RowError
from recruiter.core.models import Community, PerformanceDay, StageChange, utcnow
from recruiter.outreach.pipeline import set_stage
from recruiter.partners.links import ref_code_for
from recruiter.partners.performance import (
    PerformanceError,
    import_performance,
    parse_day,
    parse_mapping,
    parse_metric,
    resolve_columns,
)
from recruiter.partners.platforms import get_platform

TODAY = utcnow().date()


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


@pytest.fixture
def partners(memory_session):
    out = {}
    for key, url, name, stage in [("anna", "https://anna.example.com", "Anna", "joined"),
                                  ("yoga", "https://www.reddit.com/r/yoga/", "r/yoga", "joined"),
                                  ("pod", "https://pod.example.com", "Pod", "contacted")]:
        community = Community(url=url, name=name)
        memory_session.add(community)
        memory_session.commit()
        set_stage(community, stage, actor=Actor.cli(), session=memory_session)
        out[key] = community
    return out


def _import(session, tmp_path: Path, text: str, name: str = "export.csv", **kwargs):
    path = tmp_path / name
    path.write_text(text)
    return import_performance(path, actor=Actor.cli(), session=session, **kwargs)


def test_numbers_and_dates_in_the_forms_exports_use() -> None:
    assert parse_metric("1,000", "clicks") == 1000
    assert parse_metric("$2,500.50", "revenue") == 2500.5
    assert parse_metric("1.234,5", "revenue") == 1234.5
    assert parse_metric("12,5 EUR", "revenue") == 12.5
    assert parse_metric("", "clicks") == 0
    for bad, message in [("-5", "negative clicks"), ("(3.00)", "negative clicks"), ("abc", "not a number"),
                         ("2.5", "not a whole number")]:
        with pytest.raises(RowError, match=message):
            parse_metric(bad, "clicks")
    assert parse_day("2026-03-04") == date(2026, 3, 4)
    assert parse_day("2026-03-04T10:00:00Z") == date(2026, 3, 4)
    assert parse_day("03/04/2026") == date(2026, 3, 4)  # US order
    assert parse_day("25/03/2026") == date(2026, 3, 25)  # the first part cannot be a month
    assert parse_day("Mar 4, 2026") == date(2026, 3, 4)
    with pytest.raises(RowError, match="bad date"):
        parse_day("yesterday")
    with pytest.raises(RowError, match="in the future"):
        parse_day((TODAY + timedelta(days=30)).isoformat())


def test_columns_come_from_map_then_platform_then_defaults() -> None:
    header = ["Day", "Affiliate token", "Visitors", "Customers", "Sale amount", "Commission amount", "Note"]
    columns = resolve_columns(header, mapping={}, platform=get_platform("rewardful"))
    assert columns == {"date": "Day", "partner": "Affiliate token", "clicks": "Visitors",
                       "conversions": "Customers", "revenue": "Sale amount", "commission": "Commission amount"}
    columns = resolve_columns(["Date", "Who", "Clicks", "Sales"], mapping=parse_mapping(["partner=who",
                                                                                         "sales=Sales"]),
                              platform=get_platform("utm"))
    assert columns["partner"] == "Who" and columns["conversions"] == "Sales"
    with pytest.raises(PerformanceError, match="no partner column"):
        resolve_columns(["Date", "Clicks"], mapping={}, platform=get_platform("utm"))
    with pytest.raises(PerformanceError, match="has no column 'Nope'"):
        resolve_columns(["Date", "Partner", "Clicks"], mapping={"clicks": "Nope"}, platform=get_platform("utm"))
    with pytest.raises(PerformanceError, match="unknown field 'views'"):
        parse_mapping(["views=Views"])


def test_bad_rows_are_named_and_the_rest_kept(memory_session, partners, tmp_path) -> None:
    code = ref_code_for(partners["anna"], session=memory_session)
    report = _import(memory_session, tmp_path, (
        "Date,Partner,Clicks,Conversions,Revenue,Commission\n"
        f"{_day(1)},{code},10,1,50,5\n"
        f"{_day(1)},https://pod.example.com,10,1,50,5\n"
        f"nope,{code},10,1,50,5\n"
        f"{_day(2)},ghost,1,0,0,0\n"
        f"{_day(2)},,1,0,0,0\n"
        f"{_day(2)},Anna,5,0,0,0\n"
    ))
    assert report.kept == 2 and len(report.errors) == 4
    assert report.errors[0].startswith("line 3: https://pod.example.com is a known community but not a partner")
    assert report.errors[1] == "line 4: bad date 'nope' (expected YYYY-MM-DD)"
    assert report.errors[2].startswith("line 5: unknown partner 'ghost'")
    assert report.errors[3] == "line 6: missing partner"


def test_reimport_changes_nothing_and_a_newer_export_replaces_a_day(memory_session, partners, tmp_path) -> None:
    anna = partners["anna"]
    text = f"Date,Partner,Clicks,Orders,Revenue\n{_day(3)},{anna.url},10,1,40\n{_day(2)},{anna.url},5,0,0\n"
    first = _import(memory_session, tmp_path, text)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = _import(memory_session, tmp_path, text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    # A later export overlapping one day (a late conversion arrived): replaced, not added.
    newer = _import(memory_session, tmp_path, f"Date,Partner,Clicks,Orders,Revenue\n{_day(2)},{anna.url},5,1,30\n"
                                              f"{_day(1)},{anna.url},7,0,0\n", name="newer.csv")
    assert (newer.created, newer.updated, newer.unchanged) == (1, 1, 0)
    assert newer.notes == ["1 day imported before from export.csv now has this file's numbers (the newer "
                           "export wins; days are never added up across files)"]
    days = memory_session.exec(select(PerformanceDay).order_by(PerformanceDay.day)).all()
    assert [(d.clicks, d.conversions, d.revenue) for d in days] == [(10, 1, 40), (5, 1, 30), (7, 0, 0)]


def test_rows_of_one_file_for_the_same_day_are_added_up(memory_session, partners, tmp_path) -> None:
    anna = partners["anna"]
    text = (f"Date,Partner,Clicks,Conversions,Revenue\n{_day(1)},{anna.url},10,1,40\n"
            f"{_day(1)},anna.example.com,5,1,60\n")
    _import(memory_session, tmp_path, text)
    _import(memory_session, tmp_path, text)
    (day,) = memory_session.exec(select(PerformanceDay)).all()
    assert (day.clicks, day.conversions, day.revenue) == (15, 2, 100)


def test_activity_moves_stages_through_the_pipeline(memory_session, partners, tmp_path) -> None:
    anna, yoga = partners["anna"], partners["yoga"]
    _import(memory_session, tmp_path, f"Date,Partner,Clicks,Conversions\n{_day(5)},{anna.url},10,2\n"
                                      f"{_day(5)},{yoga.url},10,0\n")
    memory_session.expire_all()
    moves = [(c.from_stage, c.to_stage) for c in memory_session.exec(select(StageChange).order_by(StageChange.id))
             if c.to_stage in ("activated", "performing")]
    assert moves.count(("joined", "activated")) == 2 and moves.count(("activated", "performing")) == 1


def test_a_file_without_usable_columns_saves_nothing(memory_session, partners, tmp_path) -> None:
    with pytest.raises(PerformanceError, match="no clicks, conversions, revenue or commission column"):
        _import(memory_session, tmp_path, f"Date,Partner,Views\n{_day(1)},Anna,3\n")
    with pytest.raises(PerformanceError, match="no date column"):
        _import(memory_session, tmp_path, "When,Partner,Clicks\nx,Anna,3\n")
    assert memory_session.exec(select(PerformanceDay)).all() == []


def test_unused_columns_are_pointed_out(memory_session, partners, tmp_path) -> None:
    report = _import(memory_session, tmp_path, f"Date,Partner,Clicks,Sales\n{_day(1)},Anna,3,1\n")
    assert report.notes == ["columns not used: Sales (use --map FIELD=Column to use one)"]


def test_partners_named_by_tracked_link_or_email(memory_session, partners, tmp_path) -> None:
    from recruiter.partners.links import create_link

    anna, yoga = partners["anna"], partners["yoga"]
    link = create_link(anna, "https://shop.example.com", actor=Actor.cli(), session=memory_session, platform="rewardful")
    yoga.emails = ["mods@yoga.example"]
    memory_session.add(yoga)
    memory_session.commit()
    report = _import(memory_session, tmp_path, f"Date,Partner,Clicks\n{_day(1)},{link.tracked_url},4\n"
                                               f"{_day(1)},MODS@yoga.example,3\n{_day(1)},who@else.example,1\n")
    assert report.kept == 2 and report.errors == [
        "line 4: unknown partner 'who@else.example' (not a ref code, URL, email or name of a known community)"]


def test_a_mistaken_import_can_be_removed(memory_session, partners, tmp_path) -> None:
    from recruiter.partners.performance import remove_days

    anna = partners["anna"]
    _import(memory_session, tmp_path, f"Date,Partner,Clicks\n{_day(2)},{anna.url},4\n", name="good.csv")
    _import(memory_session, tmp_path, f"Date,Partner,Clicks\n{_day(1)},{anna.url},9\n", name="wrong.csv")
    assert remove_days(actor=Actor.cli(), session=memory_session, source_file="wrong.csv") == 1
    assert [d.clicks for d in memory_session.exec(select(PerformanceDay)).all()] == [4]


def test_slash_dates_are_read_the_way_the_file_writes_them(memory_session, partners, tmp_path) -> None:
    from recruiter.partners.performance import slash_order

    assert slash_order(["03/04/2025", "25/04/2025"]) is True
    assert slash_order(["03/04/2025", "04/25/2025"]) is False
    assert slash_order(["03/04/2025"]) is None
    assert parse_day("03/04/2025", day_first=True) == date(2025, 4, 3)
    anna = partners["anna"]
    report = _import(memory_session, tmp_path, f"Date,Partner,Clicks\n03/04/2025,{anna.url},1\n"
                                               f"25/04/2025,{anna.url},2\n")
    days = sorted(d.day for d in memory_session.exec(select(PerformanceDay)).all())
    assert days == [date(2025, 4, 3), date(2025, 4, 25)] and not report.notes
    ambiguous = _import(memory_session, tmp_path, f"Date,Partner,Clicks\n03/05/2025,{anna.url},1\n", name="b.csv")
    assert "read month-first (US)" in ambiguous.notes[0]
