"""Money as Decimal: amounts parsed as exports write them, exact sums, half-even rounding to cents."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from recruiter.accounts.roles import Actor
from recruiter.core.models import Community, utcnow
from recruiter.outreach.pipeline import set_stage
from recruiter.partners.money import MoneyError, parse_amount, per, to_money, total
from recruiter.partners.performance import import_performance, performance_rows
from recruiter.partners.reports import kind_performance, partner_scorecards, trend


@pytest.mark.parametrize(("text", "expected"), [
    ("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("€12", "12"), ("12,5 EUR", "12.5"), ("$ 2,500", "2500"),
    ("1 234,56 €", "1234.56"), ("0.10", "0.10"), ("", "0"), ("-", "0"), ("(3.00)", "-3.00"), ("USD 7.5", "7.5"),
])
def test_amounts_in_the_forms_exports_use(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "nan", "inf", "12..5", "1e5"])
def test_what_is_not_an_amount_is_refused(bad: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(bad)


def test_rounding_is_half_even_to_cents_and_sums_do_not_drift() -> None:
    assert to_money("2.675") == Decimal("2.68") and to_money("2.665") == Decimal("2.66")
    assert to_money(0.1 + 0.2) == Decimal("0.30")  # a float sum read back from a database
    assert total(["0.10"] * 10) == Decimal("1.00") and sum([0.1] * 10) != 1.0
    assert per(Decimal("10.00"), 3) == Decimal("3.33") and per(Decimal("1"), 0) is None


def test_imported_amounts_are_exact_and_reported_as_numbers(memory_session, tmp_path) -> None:
    anna = Community(url="https://anna.example.com", name="Anna", kind="blog")
    memory_session.add(anna)
    memory_session.commit()
    set_stage(anna, "joined", actor=Actor.cli(), session=memory_session)
    day = (utcnow().date() - timedelta(days=1)).isoformat()
    rows = "".join(f'{day},{anna.url},1,1,"0.10","0.01"\n' for _ in range(3))  # one day in three transactions
    rows += f'{day},{anna.url},7,0,"1,234.50","€12"\n'
    path = tmp_path / "export.csv"
    path.write_text("Date,Partner,Clicks,Conversions,Revenue,Commission\n" + rows)
    report = import_performance(path, actor=Actor.cli(), session=memory_session)
    assert report.kept == 4 and not report.errors
    (stored,) = performance_rows(session=memory_session)
    assert (stored.revenue, stored.commission) == (Decimal("1234.80"), Decimal("12.03"))
    (card,) = partner_scorecards(session=memory_session)
    assert card.revenue == Decimal("1234.80") and card.epc == Decimal("123.48")
    assert json.dumps(card.public()["revenue"]) == "1234.8"
    assert sum(p.revenue for p in trend(session=memory_session, by="day", periods=3)) == Decimal("1234.80")
    assert kind_performance(session=memory_session)[0].revenue_per_partner == Decimal("1234.80")
    again = import_performance(path, actor=Actor.cli(), session=memory_session)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)  # exact: nothing looks changed


def test_a_day_is_rounded_once_after_its_rows_are_added_up() -> None:
    from recruiter.partners.performance import parse_metric

    rows = [parse_metric("0.005", "revenue") for _ in range(3)]
    assert rows[0] == Decimal("0.005") and to_money(sum(rows)) == Decimal("0.02")  # not 3 x 0.00
    assert parse_metric("1,000", "clicks") == 1000 and isinstance(parse_metric("7", "conversions"), int)
