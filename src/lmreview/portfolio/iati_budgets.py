"""The budgets of an IATI activity and their total (see the mapping in :mod:`lmreview.portfolio.iati`).

Per distinct period, the revised budget (the last one) replaces the original; budget_usd is the sum over periods when
all of them are in USD. A negative line is kept, counted as published and warned about (the IATI schema allows it);
a negative total leaves budget_usd empty. Every amount, and the total, must fit the store's amount column: a BIGINT
count of cents (:class:`lmreview.store.base.Scaled`), so at most 2 decimals within +-MAX_AMOUNT.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree.ElementTree import Element

from lmreview.portfolio.iati_xml import File, attr, currency, decimal, read_date
from lmreview.portfolio.schemas import BudgetRecord, ProjectRecord

BUDGET_KINDS = {"1": "original", "2": "revised"}
BUDGET_NOT_PROVIDED = {"1": "Commercial restrictions", "2": "Legal restrictions", "3": "Rapid onset emergency"}
BUDGET_STATUSES = {"1": "indicative", "2": "committed"}
# Amounts are stored as a BIGINT count of cents (store.base.Scaled(2)): its range, in units
MAX_AMOUNT = Decimal(2**63 - 1).scaleb(-2)


def read_budgets(f: File, record: ProjectRecord, activity: Element) -> None:
    default = currency(f, activity, "@default-currency", activity.get("default-currency"))
    who = f"activity {record.code}" if record.code else "the activity"
    read = [(b, el) for el in activity.findall("budget") if (b := _budget(f, el, default, who)) is not None]
    record.budgets = [b for b, _ in read]
    _not_provided(f, record, activity, bool(read))
    chosen: dict[tuple[dt.date | None, dt.date | None], tuple[BudgetRecord, Element]] = {}
    for budget, element in read:  # per period: the revised budget, else the original; the later of equals
        current = chosen.get((budget.period_start, budget.period_end))
        if current is None or not (current[0].kind == "revised" and budget.kind == "original"):
            chosen[(budget.period_start, budget.period_end)] = (budget, element)
    currencies = sorted({b.currency for b, _ in chosen.values()})
    if not chosen:
        record.currency = default or "USD"
    elif currencies == ["USD"]:
        total = sum((b.value for b, _ in chosen.values()), Decimal(0))
        if total < 0:
            f.warn(
                activity,
                "budget/value",
                f"{who}: its budget lines add up to {total} USD, less than 0; the budget in USD is left empty",
            )
        elif total > MAX_AMOUNT:
            f.error(activity, "budget/value", f"{who}: its budget lines add up to {total} USD, {_range()}")
        else:
            record.budget_usd = total
    else:
        record.currency = next(c for c in currencies if c != "USD")
        f.warn(
            next(el for b, el in chosen.values() if b.currency == record.currency),
            "budget/value/@currency",
            f"the budget is in {' and '.join(currencies)} and is not converted; the budget in USD is left empty",
        )


def _not_provided(f: File, record: ProjectRecord, activity: Element, has_budgets: bool) -> None:
    """``@budget-not-provided`` (IATI 2.03): why the activity publishes no budget."""
    code = attr(activity, "budget-not-provided")
    if not code:
        return
    reason = BUDGET_NOT_PROVIDED.get(code)
    if reason is None:
        f.warn(activity, "@budget-not-provided", f"{code!r} is not a BudgetNotProvided code (1-3); ignored")
        return
    record.extra["budget_not_provided"] = reason
    if has_budgets:
        f.warn(
            activity,
            "@budget-not-provided",
            f"the activity says no budget is provided ({reason}) but has budget lines; the lines are read",
        )


def _range() -> str:
    bound = f"{MAX_AMOUNT:,}"
    return f"out of the range an amount can have (-{bound} to {bound})"


def _amount(f: File, element: Element, column: str, text: str, who: str) -> Decimal | None:
    """An amount as written in ``<value>``: a finite number, at most 2 decimals, that the store can hold."""
    shown = text if len(text) <= 40 else f"{text[:20]}…{text[-8:]} ({len(text)} characters)"
    if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        f.error(element, column, f'{who}: "{shown}" is not a finite number; write the amount in digits, e.g. 12000.50')
        return None
    value = decimal(text)
    if value is None:
        f.error(element, column, f'"{shown}" is not a number; write digits with a dot for decimals, e.g. 12000.50')
    elif abs(value) > MAX_AMOUNT:
        f.error(element, column, f'{who}: "{shown}" is {_range()}')
        value = None
    elif value != value.quantize(Decimal("0.01")):
        f.error(element, column, f'{who}: "{shown}" has more than 2 decimals; amounts are kept to the cent')
        value = None
    return value


def _budget(f: File, element: Element, default: str | None, who: str) -> BudgetRecord | None:
    """One ``<budget>``, or None when it is unusable (the problem is reported)."""
    kind = BUDGET_KINDS.get(attr(element, "type", "1"))
    if kind is None:
        f.error(
            element, "budget/@type", f"{element.get('type')!r} is not a budget type; use 1 (original) or 2 (revised)"
        )
    status = BUDGET_STATUSES.get(attr(element, "status", "1"))
    if status is None:
        f.warn(element, "budget/@status", f"{element.get('status')!r} is not a budget status (1 or 2); ignored")
    start = read_date(f, element, "period-start", "budget/period-start/@iso-date")
    end = read_date(f, element, "period-end", "budget/period-end/@iso-date")
    if start and end and end < start:
        f.error(element, "budget/period-end/@iso-date", f"the period ends ({end}) before it starts ({start})")
    value_el = element.find("value")
    text = "" if value_el is None else (value_el.text or "").strip()
    if value_el is None or not text:
        f.error(element, "budget/value", "the budget has no value; write the amount in <value>")
        return None
    value_date = None
    if value_el.get("value-date") is not None:
        value_date = read_date(f, value_el, None, "budget/value/@value-date", "value-date")
    unit = currency(f, value_el, "budget/value/@currency", value_el.get("currency"))
    if value_el.get("currency") is None and default is None:
        f.error(
            value_el,
            "budget/value/@currency",
            "the budget has no currency; set currency on <value> or default-currency on <iati-activity>",
        )
    value = _amount(f, value_el, "budget/value", text, who)
    if value is not None and value < 0:
        f.warn(
            value_el,
            "budget/value",
            f"{who}: the {kind or ''} budget line for {start or '?'} to {end or '?'} is negative ({text}); IATI "
            "budgets should not be, but the line is kept and counted as published",
        )
    unit = unit or (default if value_el.get("currency") is None else None)
    if kind is None or value is None or unit is None:
        return None
    return BudgetRecord(kind, value, unit, start, end, value_date, status)
