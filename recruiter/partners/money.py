"""Money as `Decimal`: parsing amounts the way exports write them, sums, and rounding half-even to cents.

Floats cannot hold 0.10 exactly, so a month of revenue added up in floats drifts by fractions of a cent, and a
rounding of 2.675 goes the wrong way. Every amount the partner reports handle (revenue, commission, EPC) is a
`Decimal` rounded half-even (banker's rounding: no upward bias over many sums) to cents. The database columns stay
plain numbers: a stored amount always has at most two decimals, so `to_money` reads it back exactly.

Output: `money_json` turns an amount into a JSON number (12.5 for 12.50); tables print the `Decimal` itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CURRENCY = re.compile(r"[\s$€£¥\u00a0\u202f()']|(?i:usd|eur|gbp|cad|aud|chf|jpy|nzd|sek|nok|dkk)")
THOUSANDS_COMMA = re.compile(r"\d{1,3}(,\d{3})+")


class MoneyError(ValueError):
    """A text that is not an amount (the caller names the field and the line)."""


def to_money(value: object) -> Decimal:
    """An amount (int, float from a database column or a sum, Decimal, numeric text) as cents, half-even.

    Floats go through their shortest repr, so 0.1 + 0.2 (0.30000000000000004) is 0.30, not 0.3000000000000000444."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(str(value).strip() or "0")
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not an amount") from None
    if not number.is_finite():
        raise MoneyError(f"{value!r} is not an amount")
    return number.quantize(CENT, rounding=ROUND_HALF_EVEN)


def parse_amount(text: object) -> Decimal:
    """A number as exports write it, exactly: "1,234.50", "1.234,50", "€12", "12,5 EUR", "(3.00)" (negative).

    A lone comma is a decimal comma ("12,5") unless it groups thousands ("1,234"). Not rounded: the caller
    rounds amounts to cents and checks counts are whole."""
    raw = "" if text is None else str(text).strip()
    if raw in ("", "-", "—"):
        return Decimal(0)
    if raw.isascii() and raw.isdigit():  # the usual plain count
        return Decimal(raw)
    negative = raw.startswith("-") or (raw.startswith("(") and raw.endswith(")"))
    cleaned = CURRENCY.sub("", raw).lstrip("+-")
    if "," in cleaned and "." in cleaned:
        decimal = "." if cleaned.rfind(".") > cleaned.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", "") if THOUSANDS_COMMA.fullmatch(cleaned) else cleaned.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", cleaned):
        raise MoneyError(f"{raw!r} is not a number")
    number = Decimal(cleaned)
    return -number if negative else number


def total(values: Iterable[object]) -> Decimal:
    """The sum of amounts, exact, then rounded to cents."""
    return to_money(sum((to_money(v) for v in values), Decimal(0)))


def per(amount: Decimal, count: int | Decimal) -> Decimal | None:
    """`amount / count` in cents (EPC, revenue per partner); None when there is nothing to divide by."""
    if not count:
        return None
    return to_money(Decimal(amount) / Decimal(count))


def money_json(value: Decimal | None) -> float | None:
    """An amount as a JSON number (JSON has no decimal type; two decimals survive a float round trip)."""
    return None if value is None else float(value)


def stored(value: Decimal) -> float:
    """An amount for a plain numeric column (exact for amounts in cents)."""
    return float(to_money(value))
