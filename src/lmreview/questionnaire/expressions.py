"""XLSForm expressions: the ODK XPath subset of ``relevant``, ``constraint``, ``calculation`` and friends.

Parse once with :func:`parse` (the tokenizer and parser are in :mod:`lmreview.questionnaire.expression_syntax`),
evaluate many times with :func:`evaluate`. ``web/static/xlsform-expr.js`` is the same evaluator for the browser;
``tests/fixtures/expressions/cases.json`` holds the cases both must pass, so a change here needs the same change
there.

Values are what an XForm instance holds: strings. An unanswered question is ``""``; a select_multiple answer is a
space-separated list of choice names; a question inside a repeat, referenced from outside it, is a list of strings.

Where ODK clients disagree we follow ODK Collect (JavaRosa), except where noted:

* ``regex(value, pattern)`` is true when the *whole* value matches (ODK docs, JavaRosa ``Pattern.matches``). Only
  the dialect common to Python, JavaScript and RE2 is accepted (see
  :mod:`lmreview.questionnaire.expression_regex`): no look-ahead, no back-reference, repetition counts up to 1000.
  The server matches with RE2, so no pattern can take more than linear time. ``\\d``, ``\\w`` and ``\\b`` are
  ASCII-only. Still different: JavaScript's ``\\s`` also matches Unicode spaces, RE2's does not match ``\\v``, and
  JavaScript's ``.`` does not match ``\\r``.
* Strings in ISO date or dateTime form convert to numbers as days since 1970-01-01 (UTC), so they compare with
  ``<``/``>`` and subtract as dates. ``=`` and ``!=`` between two strings compare the text.
* ``=`` between numbers allows a difference below 1e-12, as JavaRosa does (``0.1 + 0.2 = 0.3`` is true).
* Node-sets (lists) compare existentially as in XPath 1.0 (JavaRosa rejects lists of more than one node).
* ``sum()``, ``max()`` and ``min()`` skip members that are not numbers (JavaRosa); ``max``/``min`` of none is NaN.
* ``once(x)`` gives the current answer when there is one, else ``x`` (ODK). Bare names (``state = ${state}``) are
  accepted only for ``choice_filter``: ``parse(text, names=True)``, read from ``evaluate(..., columns=choice)``.
* ``position(..)`` is the 1-based number of the repeat instance the expression is evaluated in, given as
  ``evaluate(..., position=n)``; outside a repeat (``position=None``) it is NaN. Only that exact form is accepted:
  ``..`` is not supported anywhere else, and ``position()`` with any other argument is an error.
* ``indexed-repeat(${question}, ${repeat}, n)`` is the n-th (1-based) answer to ``${question}``, a question inside
  ``${repeat}`` whose value is the list of its answers (a single string counts as a list of one); ``n`` is truncated
  like the other indexes, and out of range or not a number gives ``""``. The question and each repeat must be
  references and the arguments must be odd in number (3, 5, 7, ...), checked at parse time. Limitation: for nested
  repeats, ``indexed-repeat(${q}, ${outer}, i, ${inner}, j)``, a value holds no grouping by outer instance, so the
  value of ``${q}`` is read as the flat list across all instances and only the last index (``j``) is used; that is
  right when the outer repeat has one instance, or when ``j`` counts across all of them.
* ``pulldata('file', 'column', 'key column', key)`` and ``instance('name')/root/item[predicate]/column`` read the
  tables given as ``evaluate(..., instances=...)`` (a choice list or a file attached to the form, by name, as rows
  of columns). The lookup is a node-set (a list): the column of every row the predicate keeps; the predicate reads
  the row's columns by bare names, and a number picks the row at that (1-based) place. Only that path shape parses.
  pulldata() compares the key as text and gives the first match, or "".
* ``format-date(value, pattern)`` and ``format-date-time()`` take ODK's ``%`` patterns (see :func:`format_date`).
  A date or dateTime string is formatted as written (its own clock time, not converted to UTC); a number is days
  since 1970-01-01 UTC. ``now()`` is ``evaluate(..., now=...)``, by default the local time as ISO 8601.
* Nothing fails at evaluation: a date that cannot be made gives ``""``, an invalid dynamic regex gives false.
* Positions in strings count characters (code points), in Python and in JavaScript alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import re
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from lmreview.questionnaire.expression_regex import regex_matches, regex_problem
from lmreview.questionnaire.expression_syntax import (
    _WS,
    MAX_NESTING,
    Call,
    Current,
    Expr,
    ExpressionError,
    Literal,
    Lookup,
    Name,
    Negate,
    Operation,
    Ref,
    parse,
    references,
    walk,
)

__all__ = [
    "MAX_NESTING", "Call", "Current", "Expr", "ExpressionError", "Instances", "Literal", "Lookup", "Name", "Negate",
    "Operation", "Ref", "Value", "Values", "equalities", "evaluate", "format_date", "interpolate", "parse",
    "references", "regex_matches", "regex_problem", "to_number", "to_string", "truthy", "walk", "wanted_text",
]  # fmt: skip

Value: TypeAlias = str | float | bool | list[str]
Values: TypeAlias = Mapping[str, str | list[str]]
# The secondary instances a form reads: a choice list or an attached file, by name, as rows of columns.
Instances: TypeAlias = Mapping[str, Sequence[Mapping[str, str]]]

# --- conversions (XPath 1.0 with ODK's date extension) --------------------------------------------------------------

_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


def _date_days(s: str) -> float | None:
    """Days since 1970-01-01 UTC for an ISO date or dateTime string, None for anything else. The calendar
    arithmetic is H. Hinnant's days_from_civil, written the same way in the JavaScript."""
    m = _DATE.fullmatch(s)
    if m is None:
        return None
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    february = 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    if not 1 <= mo <= 12 or not 1 <= d <= [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]:
        return None
    y -= 1 if mo <= 2 else 0
    era, yoe = y // 400, y % 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    days = float(era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468)
    if m[4] is None:
        return days
    hours, minutes, seconds = int(m[4]), int(m[5]), float(m[6] or "0")
    offset = 0 if m[7] in (None, "Z") else (int(m[7][1:3]) * 60 + int(m[7][4:6])) * (-1 if m[7][0] == "-" else 1)
    if hours > 23 or minutes > 59 or seconds >= 60 or abs(offset) >= 24 * 60:
        return None
    return days + (hours * 3600 + minutes * 60 + seconds) / 86400 - offset / 1440


def to_number(value: Value) -> float:
    """XPath number(): "" and non-numeric text give NaN; ISO dates give days since 1970-01-01 (ODK)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return to_number(value[0]) if value else math.nan
    s = value.strip(_WS)
    days = float(s) if _NUMBER.fullmatch(s) else _date_days(s)
    return math.nan if days is None else days


def to_string(value: Value) -> str:
    """XPath string(): 3.0 -> "3", NaN -> "NaN", true -> "true", a list -> its first member."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return value[0] if value else ""
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if value == int(value):
        return str(int(value))
    mantissa, _, exponent = repr(value).partition("e")  # the shortest digits, as JavaScript's String(x)
    if not exponent:
        return mantissa
    sign, digits = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
    return f"{sign}0.{'0' * (-int(exponent) - 1)}{digits.replace('.', '')}"  # only tiny fractions reach here


def truthy(value: Value) -> bool:
    """XPath boolean(): a non-empty string, a non-zero number that is not NaN, a non-empty list."""
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return bool(value)


# --- evaluation ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    values: Values
    current: str
    today: dt.date
    columns: Mapping[str, str]
    position: int | None
    instances: Instances
    now: str | None  # None: the local time, read only when now() is called


_PLAIN_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}


def _compare(op: str, a: Value, b: Value) -> bool:
    """XPath 1.0 comparison: lists compare member by member (true if any pair does)."""
    if isinstance(a, list) or isinstance(b, list):
        if isinstance(a, bool) or isinstance(b, bool):
            return _compare(op, truthy(a), truthy(b))
        if isinstance(a, list):
            return any(_compare(op, x, b) for x in a)
        assert isinstance(b, list)
        return any(_compare(op, a, y) for y in b)
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            equal = truthy(a) == truthy(b)
        elif isinstance(a, float) or isinstance(b, float):
            x, y = to_number(a), to_number(b)
            equal = x == y or abs(x - y) < 1e-12
        else:
            equal = a == b
        return equal if op == "=" else not equal
    x, y = to_number(a), to_number(b)
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _arithmetic(op: str, x: float, y: float) -> float:
    """IEEE arithmetic as in JavaScript, where Python would raise: 1 div 0 is Infinity, 1 mod 0 is NaN."""
    if op in _PLAIN_ARITHMETIC:
        return _PLAIN_ARITHMETIC[op](x, y)
    if op == "div":
        if y != 0:
            return x / y
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1.0, y)
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return math.nan
    return math.fmod(x, y)  # the sign of the dividend, as JavaScript's %


def _operation(expr: Operation, ctx: _Context) -> Value:
    acc = _eval(expr.first, ctx)
    for op, operand in expr.rest:
        if op in ("and", "or"):
            if truthy(acc) == (op == "or"):
                return op == "or"  # short-circuit
            acc = truthy(_eval(operand, ctx))
        elif op in ("=", "!=", "<", "<=", ">", ">="):
            acc = _compare(op, acc, _eval(operand, ctx))
        else:
            acc = _arithmetic(op, to_number(acc), to_number(_eval(operand, ctx)))
    return acc


def _eval(expr: Expr, ctx: _Context) -> Value:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Ref):
        value = ctx.values.get(expr.name, "")
        return list(value) if isinstance(value, list) else value
    if isinstance(expr, Name):
        return ctx.columns.get(expr.name, "")
    if isinstance(expr, Current):
        return ctx.current
    if isinstance(expr, Negate):
        return -to_number(_eval(expr.operand, ctx))
    if isinstance(expr, Operation):
        return _operation(expr, ctx)
    if isinstance(expr, Lookup):
        return _lookup(expr, ctx)
    if expr.name == "if":
        return _eval(expr.args[1] if truthy(_eval(expr.args[0], ctx)) else expr.args[2], ctx)
    if expr.name == "once":
        return ctx.current if ctx.current else _eval(expr.args[0], ctx)
    if expr.name == "today":
        return ctx.today.isoformat()
    if expr.name == "now":
        return ctx.now or dt.datetime.now().astimezone().isoformat(timespec="milliseconds")
    if expr.name == "pulldata":
        return _pulldata([_eval(a, ctx) for a in expr.args], ctx.instances)
    if expr.name == "position":
        return math.nan if ctx.position is None else float(ctx.position)
    if expr.name == "indexed-repeat":  # nested repeats: only the last index counts (see the module docstring)
        return _indexed_repeat(_eval(expr.args[0], ctx), _eval(expr.args[-1], ctx))
    args = [_eval(a, ctx) for a in expr.args] or ([ctx.current] if expr.name in _OF_CURRENT else [])
    return _FUNCTIONS[expr.name](args)


def evaluate(
    expr: Expr,
    values: Values,
    current: str | None = None,
    today: dt.date | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    position: int | None = None,
    instances: Instances | None = None,
    now: str | None = None,
) -> str | float | bool | list[str]:
    """Evaluate a parsed expression. ``values`` maps question names to answers (missing names read as ""),
    ``current`` is what ``.`` means, ``today`` what ``today()`` returns (default: the local date), ``columns``
    the choice a ``choice_filter`` is deciding on (its ``name`` and other columns, read by bare names),
    ``position`` the 1-based number of the repeat instance being evaluated, what ``position(..)`` returns (None
    outside a repeat: NaN), ``instances`` the tables ``pulldata()`` and ``instance()`` read (a choice list or an
    attached file by name, as rows of columns), ``now`` what ``now()`` returns (default: the local time, ISO)."""
    context = _Context(values, current or "", today or dt.date.today(), columns or {}, position, instances or {}, now)
    return _eval(expr, context)


def equalities(expr: Expr) -> list[tuple[str, Expr]] | None:
    """``column = value`` tests joined by ``and`` (``region = ${region} and phase = 'dry'``), where no value reads a
    column, as (column, value) pairs; None for any other expression. Such a filter over a long table is decided by
    comparing text once per row instead of evaluating the expression per row (when each value is text)."""
    parts: list[Expr] = [expr]
    if isinstance(expr, Operation) and all(op == "and" for op, _ in expr.rest):
        parts = [expr.first, *(e for _, e in expr.rest)]
    found: list[tuple[str, Expr]] = []
    for part in parts:
        if not (isinstance(part, Operation) and len(part.rest) == 1 and part.rest[0][0] == "="):
            return None
        column, value = part.first, part.rest[0][1]
        if not isinstance(column, Name) or any(isinstance(n, Name | Lookup | Current) for n in walk(value)):
            return None
        found.append((column.name, value))
    return found


def wanted_text(
    tests: list[tuple[str, Expr]], values: Values, today: dt.date, instances: Instances | None = None
) -> list[tuple[str, str]] | None:
    """The values of ``tests`` (see :func:`equalities`) by column, or None when one is not text (a number or a
    list compares otherwise: the caller then evaluates row by row)."""
    wanted: list[tuple[str, str]] = []
    for column, value in tests:
        result = evaluate(value, values, today=today, instances=instances)
        if not isinstance(result, str):
            return None
        wanted.append((column, result))
    return wanted


def _lookup(expr: Lookup, ctx: _Context) -> list[str]:
    """``instance('name')/root/item[predicate]/column``: the column of every item the predicate keeps."""
    rows = ctx.instances.get(expr.instance, ())
    tests = equalities(expr.predicate) if expr.predicate is not None else None
    wanted = wanted_text(tests, ctx.values, ctx.today, ctx.instances) if tests else None
    if wanted is not None and len(wanted) == 1:  # the usual name = ${x}, without a generator per row
        [(key, text)] = wanted
        return [row.get(expr.column, "") for row in rows if row.get(key, "") == text]
    if wanted is not None:
        return [row.get(expr.column, "") for row in rows if all(row.get(c, "") == v for c, v in wanted)]
    found: list[str] = []
    for number, row in enumerate(rows, start=1):
        if expr.predicate is not None:
            keep = _eval(
                expr.predicate, _Context(ctx.values, ctx.current, ctx.today, row, ctx.position, ctx.instances, ctx.now)
            )
            if isinstance(keep, float) and not math.isnan(keep) and keep != number:
                continue
            if not isinstance(keep, float) and not truthy(keep):
                continue
        found.append(row.get(expr.column, ""))
    return found


def _pulldata(args: Sequence[Value], instances: Instances) -> str:
    """pulldata('file', 'column', 'key column', key): the column of the first row whose key column is the key."""
    table, column, key_column, key = (to_string(a) for a in args)
    for row in instances.get(table, ()):
        if row.get(key_column, "") == key:
            return row.get(column, "")
    return ""


def interpolate(label: str, values: Values) -> str:
    """Replace each ``${name}`` in a label or hint with the answer; list answers are joined by ", "."""

    def answer(m: re.Match[str]) -> str:
        value = values.get(m[1], "")
        return ", ".join(value) if isinstance(value, list) else value

    return re.sub(r"\$\{([^}]*)\}", answer, label)


# --- function bodies ----------------------------------------------------------------------------------------------


def _items(value: Value) -> list[str]:
    """A space-separated selection as a list of choice names."""
    s = to_string(value).strip(_WS)
    return re.split(r"[ \t\r\n]+", s) if s else []


def _members(args: Sequence[Value]) -> list[Value]:
    return [m for a in args for m in (a if isinstance(a, list) else [a])]


def _index(value: Value) -> int | None:
    x = to_number(value)
    return None if math.isnan(x) else int(max(-(2.0**31), min(2.0**31, x)))


def _selected_at(args: Sequence[Value]) -> str:
    items, i = _items(args[0]), _index(args[1])  # a NaN index gives "" (JavaRosa reads it as 0)
    return items[i] if i is not None and 0 <= i < len(items) else ""


def _indexed_repeat(value: Value, n: Value) -> str:
    """The n-th (1-based) member of a repeated question's answers; "" when there is none."""
    answers = value if isinstance(value, list) else [to_string(value)]
    i = _index(n)
    return answers[i - 1] if i is not None and 1 <= i <= len(answers) else ""


def _substr(args: Sequence[Value]) -> str:
    """ODK's substr: 0-based, end exclusive, negative positions count from the end (JavaRosa)."""
    chars = to_string(args[0])
    start = _index(args[1]) or 0
    end = len(chars) if len(args) < 3 else _index(args[2]) or 0
    start, end = (start + len(chars) if start < 0 else start), (end + len(chars) if end < 0 else end)
    return chars[max(0, start) : max(0, end)]


def _translate(args: Sequence[Value]) -> str:
    s, source, target = (to_string(a) for a in args)
    table: dict[str, str] = {}
    for i, c in enumerate(source):
        table.setdefault(c, target[i] if i < len(target) else "")
    return "".join(table.get(c, c) for c in s)


def _around(args: Sequence[Value]) -> tuple[str, str]:
    """What comes before and after the first ``args[1]`` in ``args[0]``; ("", "") if it is not there."""
    s, sep = to_string(args[0]), to_string(args[1])
    i = s.find(sep)
    return (s[:i], s[i + len(sep) :]) if i >= 0 else ("", "")


def _coalesce(args: Sequence[Value]) -> Value:
    first = to_string(args[0]) if isinstance(args[0], list) else args[0]
    empty = first == "" or (isinstance(first, float) and math.isnan(first))
    return (to_string(args[1]) if isinstance(args[1], list) else args[1]) if empty else first


def _numbers(args: Sequence[Value]) -> list[float]:
    """The members that are numbers: sum(), max() and min() skip the rest, as JavaRosa does."""
    return [x for x in map(to_number, _members(args)) if not math.isnan(x)]


def _round(args: Sequence[Value]) -> float:
    """XPath round (halves toward +infinity) to ``digits`` decimals, on the decimal digits the number prints
    with, as JavaRosa does: round(1.005, 2) is 1.01."""
    x = to_number(args[0])
    digits = to_number(args[1]) if len(args) > 1 else 0.0
    if math.isnan(digits) or abs(digits) > 30:
        return math.nan
    if not math.isfinite(x):
        return x
    d = int(digits)
    mantissa, _, exponent = repr(x).partition("e")
    scaled = float(f"{mantissa}e{int(exponent or 0) + d}")
    if abs(scaled) >= 2.0**52:
        return x
    floor = math.floor(scaled)
    rounded = floor + 1 if scaled - floor >= 0.5 else floor
    return float(f"{rounded}e{-d}")


def _date(args: Sequence[Value]) -> str:
    """date(): a date or dateTime string keeps its date, a number of days since 1970-01-01 becomes one (H. Hinnant's
    civil_from_days); anything else gives ""."""
    if isinstance(args[0], str | list):
        s = to_string(args[0]).strip(_WS)
        if s == "" or _date_days(s) is not None:
            return s[:10]
    days = to_number(args[0])
    if not math.isfinite(days) or abs(days) >= 1e7:
        return ""
    z = int(days) + 719468
    era, doe = z // 146097, z % 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + (3 if mp < 10 else -9)
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return f"{y:04d}-{m:02d}-{doy - (153 * mp + 2) // 5 + 1:02d}" if 0 <= y <= 9999 else ""


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_PATTERN = re.compile(r"%(.)", re.DOTALL)


def format_date(value: Value, pattern: str) -> str:
    """ODK's format-date()/format-date-time(): ``%Y`` year, ``%y`` its last two digits, ``%m`` month (``%n``
    unpadded, ``%b`` short name), ``%d`` day (``%e`` unpadded), ``%a`` short day name, ``%H`` hour (``%h``
    unpadded), ``%M`` minutes, ``%S`` seconds, ``%3`` milliseconds; other characters are kept. A date or dateTime
    string is read as written (its clock time, whatever its offset), a number as days since 1970-01-01 UTC;
    anything else gives ""."""
    s = to_string(value).strip(_WS) if isinstance(value, str | list) else ""
    m = _DATE.fullmatch(s) if s else None
    if m is not None and _date_days(s) is not None:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
        day_number = _date_days(s[:10]) or 0.0
        seconds = float(m[6] or "0")
        h, mi, sec, ms = int(m[4] or 0), int(m[5] or 0), int(seconds), math.floor((seconds - int(seconds)) * 1000 + 0.5)
    else:
        days = to_number(value)
        if not math.isfinite(days) or abs(days) >= 1e7:
            return ""
        day_number = float(math.floor(days))
        text = _date([day_number])
        if not text:
            return ""
        y, mo, d = int(text[:4]), int(text[5:7]), int(text[8:10])
        total = math.floor((days - day_number) * 86400000 + 0.5)  # as JavaScript rounds
        h, mi, sec, ms = total // 3600000, total // 60000 % 60, total // 1000 % 60, total % 1000
    fields = {
        "Y": f"{y:04d}", "y": f"{y % 100:02d}", "m": f"{mo:02d}", "n": str(mo), "b": _MONTHS[mo - 1],
        "d": f"{d:02d}", "e": str(d), "a": _WEEKDAYS[int(day_number + 4) % 7], "H": f"{h:02d}", "h": str(h),
        "M": f"{mi:02d}", "S": f"{sec:02d}", "3": f"{ms:03d}",
    }  # fmt: skip
    return _PATTERN.sub(lambda f: fields.get(f[1], f[0]), pattern)


_OF_CURRENT = {"number", "string", "string-length", "normalize-space"}


def _math(function: Callable[..., float]) -> Callable[[list[Value]], Value]:
    """A math function of ODK's XPath, with JavaScript's answers where Python's math raises: NaN outside the
    domain (``sqrt(-1)``), infinity on overflow (``exp(1000)``), minus infinity for ``log(0)``."""

    def run(args: list[Value]) -> Value:
        numbers = [to_number(a) for a in args]
        try:
            return float(function(*numbers))
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            if function in (math.log, math.log10) and numbers[0] == 0:
                return -math.inf
            return math.nan

    return run


_RANDOM = secrets.SystemRandom()  # random(): a number from 0 to 1; once(random()) keeps the first one drawn


def _pow(x: float, y: float) -> float:
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0 and y < 0:
        return math.inf
    result = x**y
    return result if isinstance(result, float) else math.nan  # a negative number to a fractional power


_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "selected": lambda a: to_string(a[1]).strip(_WS) in _items(a[0]),
    "count-selected": lambda a: float(len(_items(a[0]))), "selected-at": _selected_at,
    "not": lambda a: not truthy(a[0]), "true": lambda a: True, "false": lambda a: False,
    "boolean": lambda a: truthy(a[0]), "boolean-from-string": lambda a: to_string(a[0]) in ("true", "1"),
    "number": lambda a: to_number(a[0]), "decimal-date-time": lambda a: to_number(a[0]),
    "int": lambda a: math.copysign(math.trunc(x), x) if math.isfinite(x := to_number(a[0])) else x,
    "abs": lambda a: abs(to_number(a[0])), "round": _round, "date": _date,
    "string": lambda a: to_string(a[0]), "string-length": lambda a: float(len(to_string(a[0]))),
    "concat": lambda a: "".join(map(to_string, _members(a))),
    "join": lambda a: to_string(a[0]).join(map(to_string, _members(a[1:]))),
    "contains": lambda a: to_string(a[1]) in to_string(a[0]),
    "starts-with": lambda a: to_string(a[0]).startswith(to_string(a[1])),
    "ends-with": lambda a: to_string(a[0]).endswith(to_string(a[1])),
    "substr": _substr, "substring-before": lambda a: _around(a)[0], "substring-after": lambda a: _around(a)[1],
    "translate": _translate, "normalize-space": lambda a: " ".join(_items(a[0])),
    "regex": lambda a: regex_matches(to_string(a[0]), to_string(a[1])), "coalesce": _coalesce,
    "count": lambda a: float(len(a[0]) if isinstance(a[0], list) else 1),
    "count-non-empty": lambda a: float(sum(1 for m in _members(a) if m != "")),
    "sum": lambda a: functools.reduce(operator.add, _numbers(a), 0.0),  # left to right, as JavaScript adds
    "max": lambda a: functools.reduce(max, numbers) if (numbers := _numbers(a)) else math.nan,
    "min": lambda a: functools.reduce(min, numbers) if (numbers := _numbers(a)) else math.nan,
    "pow": _math(_pow), "log": _math(math.log), "log10": _math(math.log10), "exp": _math(math.exp),
    "exp10": _math(lambda x: 10.0**x), "sqrt": _math(math.sqrt), "sin": _math(math.sin), "cos": _math(math.cos),
    "tan": _math(math.tan), "asin": _math(math.asin), "acos": _math(math.acos), "atan": _math(math.atan),
    "atan2": _math(math.atan2), "pi": lambda a: math.pi, "random": lambda a: _RANDOM.random(),
    "floor": _math(lambda x: float(math.floor(x)) if math.isfinite(x) else x),
    "ceiling": _math(lambda x: float(math.ceil(x)) if math.isfinite(x) else x),
    "format-date": lambda a: format_date(a[0], to_string(a[1])),
    "format-date-time": lambda a: format_date(a[0], to_string(a[1])),
    "uuid": lambda a: str(uuid.uuid4()),
}  # fmt: skip
