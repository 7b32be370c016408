"""Dates and durations in whole months, the unit the reviews report durations in.

A project running from 1 May 2014 to 31 January 2015 lasted 9 months: the end date is the last day of work, so
the duration is counted from the start date to the day after the end date. Complete calendar months are counted
and a remainder of 15 days or more counts as one more month (the nearest whole month). On the 14 projects of the
2011-2014 review this reproduces the printed "planned + NCE" months for 13 of them; the 14th (15/01/2014 -
30/11/2014, printed as 6.5 + 4) gives 11.
"""

from __future__ import annotations

import datetime as dt

HALF_MONTH_DAYS = 15


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_days(year: int, month: int) -> int:
    return 29 if month == 2 and _is_leap(year) else _DAYS[month - 1]


def _day_number(year: int, month: int, day: int) -> int:
    """Days since 0001-01-01 (proleptic Gregorian), also for year 10000, which ``datetime.date`` cannot hold."""
    before = year - 1
    days = before * 365 + before // 4 - before // 100 + before // 400
    return days + sum(_month_days(year, m) for m in range(1, month)) + day


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _plus_months(year: int, month: int, day: int, months: int) -> tuple[int, int, int]:
    index = year * 12 + (month - 1) + months
    new_year, month0 = divmod(index, 12)
    return new_year, month0 + 1, min(day, _month_days(new_year, month0 + 1))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month; ValueError when the result
    falls outside the years 1-9999 that dates can hold."""
    year, month, mday = _plus_months(day.year, day.month, day.day, months)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ValueError(f"{day.isoformat()} plus {months} months is outside the years {dt.MINYEAR}-{dt.MAXYEAR}")
    return dt.date(year, month, mday)


def whole_months(start: dt.date, end: dt.date) -> int:
    """Months from ``start`` to ``end`` inclusive, to the nearest whole month (see the module docstring).

    Computed on (year, month, day) numbers, so any two dates give an answer (an end date of 9999-12-31 too).
    """
    if end < start:
        raise ValueError("end date is before start date")
    # The day after the end date, which may be 10000-01-01.
    if end.day < _month_days(end.year, end.month):
        stop = (end.year, end.month, end.day + 1)
    elif end.month < 12:
        stop = (end.year, end.month + 1, 1)
    else:
        stop = (end.year + 1, 1, 1)
    months = (stop[0] - start.year) * 12 + (stop[1] - start.month)
    moved = _plus_months(start.year, start.month, start.day, months)
    if moved > stop:
        months -= 1
        moved = _plus_months(start.year, start.month, start.day, months)
    leftover = _day_number(*stop) - _day_number(*moved)
    return months + (1 if leftover >= HALF_MONTH_DAYS else 0)
