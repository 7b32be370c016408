"""Parsers for the values of a portfolio file: each returns the value or raises ValueError with a message that
says what is wrong and how to write it instead."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

MIN_YEAR, MAX_YEAR = 1945, 2100
MAX_MONTHS = Decimal(600)
MAX_BUDGET = Decimal("1e13")
# Dates outside these years are typing mistakes (9999-12-31 for "open-ended", 0214 for 2014), never project dates.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_CURRENCY = re.compile(r"^(?:(?P<pre>[A-Za-z]{3}|US\$|\$)\s*)?(?P<num>.*?)(?:\s*(?P<post>[A-Za-z]{3}))?$")
_PLAIN = re.compile(r"^-?\d+(?:\.\d+)?$")
_COMMA_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DOT_THOUSANDS = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_SLASH_DATE = re.compile(r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f'"{text}" is not a number') from None
    if not value.is_finite():
        raise ValueError(f'"{text}" is not a number')
    return value


def check_amount(value: Decimal, text: str | None = None) -> Decimal:
    """``value`` if it can be a project budget in US dollars: finite, 0 or more, below MAX_BUDGET, at most two
    decimals; otherwise ValueError quoting ``text`` (the value as written) and saying what is accepted.

    For importers that parse numbers their own way (IATI ``<value>``): every amount passes here before storing.
    """
    shown = text if text is not None else str(value)
    if not value.is_finite():
        raise ValueError(f'"{shown}" is not an amount; write it like 70000 or 70000.00')
    if value < 0:
        raise ValueError(f'"{shown}" is negative; a budget must be 0 or more')
    if value >= MAX_BUDGET:
        raise ValueError(f'"{shown}" is implausibly large for a project budget (the limit is {MAX_BUDGET:,.0f} USD)')
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f'"{shown}" has more than 2 decimals; give the amount in dollars and cents')
    return value


def parse_money(text: str) -> Decimal:
    """US dollars: "70,000", "70000.00", "USD 70,000", "$70,000", "70 000"."""
    if not any(c.isdigit() for c in text):  # "TBD", "n/a", "seventy thousand": no amount, whatever the letters
        raise ValueError(f'"{text}" is not an amount; write it like 70000, 70,000.00 or USD 70,000')
    match = _CURRENCY.match(text.strip())
    assert match is not None  # the pattern matches any string
    currency = (match["pre"] or match["post"] or "USD").upper()
    if currency in ("US$", "$"):
        currency = "USD"
    if currency != "USD":
        raise ValueError(f'"{text}" is in {currency}; this column takes US dollars')
    number = match["num"]
    if number.startswith("(") and number.endswith(")"):
        raise ValueError(f'"{text}" is negative; a budget must be 0 or more')
    number = _SPACES.sub("", number)
    if _DOT_THOUSANDS.match(number):
        raise ValueError(
            f'"{text}" is ambiguous (a dot as thousands separator?); write {number.replace(".", "")} '
            f"or {number.replace('.', ',')}"
        )
    if _COMMA_THOUSANDS.match(number):
        number = number.replace(",", "")
    if not _PLAIN.match(number):
        raise ValueError(f'"{text}" is not an amount; write it like 70000, 70,000.00 or USD 70,000')
    return check_amount(_decimal(number), text)


def parse_year(text: str) -> int:
    value = text.strip()
    if value.endswith(".0"):  # a year typed as a number in a spreadsheet
        value = value[:-2]
    if not re.fullmatch(r"\d{4}", value):
        raise ValueError(f'"{text}" is not a year; write four digits, e.g. 2014')
    year = int(value)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{year} is outside {MIN_YEAR}-{MAX_YEAR}")
    return year


def parse_months(text: str) -> Decimal:
    """A number of months, 0 or more, halves allowed: "12", "6.5", "8 months"."""
    value = re.sub(r"\s*months?$", "", text.strip(), flags=re.IGNORECASE)
    if "," in value and re.fullmatch(r"\d+,\d+", value):
        raise ValueError(f'"{text}" uses a decimal comma; write {value.replace(",", ".")}')
    if not _PLAIN.match(value):
        raise ValueError(f'"{text}" is not a number of months; write e.g. 12 or 6.5')
    months = _decimal(value)
    if months < 0:
        raise ValueError(f'"{text}" is negative; months must be 0 or more')
    if months > MAX_MONTHS:
        raise ValueError(f'"{text}" months is more than {MAX_MONTHS} (50 years)')
    if months != months.quantize(Decimal("0.01")):
        raise ValueError(f'"{text}" has more than 2 decimals')
    return months


def parse_date(text: str) -> dt.date:
    """An ISO 8601 date, YYYY-MM-DD (a spreadsheet's midnight timestamp is accepted)."""
    value = text.strip()
    match = _ISO_DATE.match(value)
    if match is None:
        if _SLASH_DATE.match(value):
            raise ValueError(f'"{text}" is ambiguous (day/month or month/day?); write it as YYYY-MM-DD')
        raise ValueError(f'"{text}" is not a date; write it as YYYY-MM-DD, e.g. 2014-05-01')
    try:
        day = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(f'"{text}" is not a real calendar date') from None
    return check_date(day, text)


def check_date(day: dt.date, text: str | None = None) -> dt.date:
    """``day`` if it lies between FIRST_DATE and LAST_DATE; otherwise ValueError saying so."""
    if not FIRST_DATE <= day <= LAST_DATE:
        shown = text if text is not None else day.isoformat()
        raise ValueError(
            f'"{shown}" is outside {FIRST_DATE.year}-{LAST_DATE.year}; give the real date '
            "(leave an open end date empty)"
        )
    return day
