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


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def whole_months(start: dt.date, end: dt.date) -> int:
    """Months from ``start`` to ``end`` inclusive, to the nearest whole month (see the module docstring)."""
    if end < start:
        raise ValueError("end date is before start date")
    stop = end + dt.timedelta(days=1)
    months = (stop.year - start.year) * 12 + (stop.month - start.month)
    if add_months(start, months) > stop:
        months -= 1
    leftover = (stop - add_months(start, months)).days
    return months + (1 if leftover >= HALF_MONTH_DAYS else 0)
