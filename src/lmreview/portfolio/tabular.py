"""The portfolio file contract: a CSV or XLSX table with one project per row.

See docs/formats.md. :func:`parse_table` turns a :class:`~lmreview.tables.Table` into project records and the
problems found, every one of them at once: a user fixes the whole file in one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lmreview.errors import Problem
from lmreview.portfolio import countries, values
from lmreview.portfolio.schemas import CountryRef, ProjectRecord
from lmreview.tables import Table, TableStream, normalise_header

COLUMNS = (
    "code",
    "title",
    "funding_year",
    "fund_line",
    "budget_usd",
    "countries",
    "region",
    "category",
    "objective",
    "start_date",
    "end_date",
    "planned_months",
    "nce_months",
    "status",
)
REQUIRED = ("code", "title")
ALIASES = {
    "project_code": "code",
    "project_id": "code",
    "project_title": "title",
    "project_name": "title",
    "year": "funding_year",
    "line": "fund_line",
    "budget_line": "fund_line",
    "country": "countries",
}
MAX_CODE = 80
MAX_TEXT = 20_000
MAX_COUNTRY = 200
# The width of the store's columns: a longer value is an error of the file, not a database failure.
MAX_LENGTH = {"fund_line": 40, "status": 80, "region": 120, "category": 200}

# The parsers are pure and a portfolio repeats its values (years, dates, months, round budgets): each distinct text
# is parsed once per process. A text that fails is parsed again each time (lru_cache keeps no exceptions).
_PARSERS: dict[str, Callable[[str], Any]] = {
    "funding_year": lru_cache(maxsize=4096)(values.parse_year),
    "budget_usd": lru_cache(maxsize=65536)(values.parse_money),
    "start_date": lru_cache(maxsize=65536)(values.parse_date),
    "end_date": lru_cache(maxsize=65536)(values.parse_date),
    "planned_months": lru_cache(maxsize=4096)(values.parse_months),
    "nce_months": lru_cache(maxsize=4096)(values.parse_months),
}
HASH_VERSION = "1"  # part of every row hash: a change of how rows are read makes every stored hash stale


_resolve = lru_cache(maxsize=4096)(countries.resolve)  # a portfolio names the same few countries on every row


def parse_table(table: Table) -> tuple[list[ProjectRecord], list[Problem], set[str]]:
    """Records, problems (errors and warnings) and the fields the file provides.

    The fields are the contract columns present (but ``code``) and ``extra:<header>`` for every other column.
    """
    reader = TableReader(table)
    if reader.problems:
        return [], reader.problems, reader.provided
    if not table.rows:
        return [], [reader.no_rows()], reader.provided
    records: list[ProjectRecord] = []
    problems: list[Problem] = []
    for number, cells in table.rows:
        record, row_problems = reader.row(number, cells)
        problems.extend(row_problems)
        if record is not None:
            records.append(record)
    return records, problems, reader.provided


class TableReader:
    """The rows of a portfolio table one at a time (:func:`parse_table` reads them all): ``problems`` holds the
    header's; :meth:`row` gives a row's record and problems, duplicate codes included."""

    def __init__(self, table: Table | TableStream) -> None:
        self.table = table
        self.problems: list[Problem] = []
        name = table.filename
        self.columns: dict[str, int] = {}
        self.extras: dict[str, int] = {}
        seen_headers: dict[str, str] = {}
        for index, raw in enumerate(table.header):
            if not raw:
                continue
            key = normalise_header(raw)
            key = ALIASES.get(key, key)
            if key in seen_headers:
                self.problems.append(
                    Problem(
                        name,
                        table.header_row,
                        raw,
                        f'the header has "{seen_headers[key]}" and "{raw}": one column per field',
                    )
                )
                continue
            seen_headers[key] = raw
            if key in COLUMNS:
                self.columns[key] = index
            else:
                self.extras[raw] = index
        for required in REQUIRED:
            if required not in self.columns:
                self.problems.append(
                    Problem(
                        name,
                        table.header_row,
                        required,
                        f'the required column "{required}" is missing '
                        f"(the header row has: {', '.join(h for h in table.header if h)})",
                    )
                )
        self.provided = (set(self.columns) - {"code"}) | {f"extra:{raw}" for raw in self.extras}
        self._code = self.columns.get("code", 0)
        self._first_row_of: dict[str, int] = {}
        self._header_hash = hashlib.blake2b(
            "\x1e".join([HASH_VERSION, *table.header]).encode(), digest_size=16
        ).digest()

    def no_rows(self) -> Problem:
        return Problem(self.table.filename, self.table.header_row, "-", "the file has a header but no rows")

    def code(self, cells: list[str]) -> str:
        return cells[self._code]

    def row_hash(self, cells: list[str]) -> str:
        """What identifies the row's content with its file's header: the same hash, the same project read."""
        return hashlib.blake2b("\x1e".join(cells).encode(), digest_size=16, key=self._header_hash).hexdigest()

    def duplicate(self, number: int, cells: list[str]) -> Problem | None:
        """The problem of a code already seen on an earlier row (the code is remembered otherwise)."""
        code = cells[self._code]
        if not code:
            return None
        key = code.casefold()
        first = self._first_row_of.setdefault(key, number)
        if first == number:
            return None
        header = self.table.header[self._code]
        return Problem(self.table.filename, number, header, f'"{code}" is already on row {first}; codes must be unique')

    def remember(self, key: str, number: int) -> None:
        """The row ``number`` has the code ``key`` (case-folded), read without :meth:`row`."""
        self._first_row_of.setdefault(key, number)

    def row(self, number: int, cells: list[str]) -> tuple[ProjectRecord | None, list[Problem]]:
        record, problems = _parse_row(self.table.filename, number, cells, self.columns, self.extras, self.table.header)
        duplicate = self.duplicate(number, cells)
        if duplicate is not None:
            problems.append(duplicate)
            return None, problems
        return record, problems

    def warnings(self, number: int, cells: list[str]) -> list[Problem]:
        """The warnings of a row read before without error (its unknown countries), without reading the rest."""
        index = self.columns.get("countries")
        if index is None:
            return []
        header = self.table.header[index]
        return _countries(self.table.filename, number, cells[index], header)[1]


def _parse_row(
    name: str,
    number: int,
    cells: list[str],
    columns: dict[str, int],
    extras: dict[str, int],
    header: list[str],
) -> tuple[ProjectRecord | None, list[Problem]]:
    problems: list[Problem] = []
    texts = dict.fromkeys(COLUMNS, "")  # "" for a column the file does not have
    for column, index in columns.items():
        texts[column] = cells[index]
    cell = texts.__getitem__

    def header_of(column: str) -> str:
        return header[columns[column]] if column in columns else column

    parsed: dict[str, Any] = {}
    for column, parse in _PARSERS.items():
        text = cell(column)
        if not text:
            continue
        try:
            parsed[column] = parse(text)
        except ValueError as exc:
            problems.append(Problem(name, number, header_of(column), str(exc)))

    code, title = cell("code"), cell("title")
    if not code:
        problems.append(Problem(name, number, header_of("code"), "the project code is empty"))
    elif len(code) > MAX_CODE or any(ord(c) < 32 for c in code):
        problems.append(
            Problem(
                name,
                number,
                header_of("code"),
                f"a code is at most {MAX_CODE} printable characters",
            )
        )
    if not title:
        problems.append(Problem(name, number, header_of("title"), "the title is empty"))
    for column in ("title", "objective"):
        if len(cell(column)) > MAX_TEXT:
            problems.append(Problem(name, number, header_of(column), f"longer than {MAX_TEXT} characters"))
    for column, limit in MAX_LENGTH.items():
        if len(cell(column)) > limit:
            problems.append(Problem(name, number, header_of(column), f"longer than {limit} characters"))
    start, end = parsed.get("start_date"), parsed.get("end_date")
    if start is not None and end is not None and end < start:
        problems.append(
            Problem(
                name,
                number,
                header_of("end_date"),
                f"the end date {end.isoformat()} is before the start date {start.isoformat()}",
            )
        )
    refs, found = _countries(name, number, cell("countries"), header_of("countries"))
    problems.extend(found)
    if any(p.severity == "error" for p in problems):
        return None, problems

    def optional(column: str) -> str | None:
        return cell(column) or None

    record = ProjectRecord(
        row=number,
        code=code,
        title=title,
        funding_year=parsed.get("funding_year"),
        fund_line=optional("fund_line"),
        budget_usd=parsed.get("budget_usd"),
        countries=refs,
        region=optional("region"),
        category=optional("category"),
        objective=optional("objective"),
        start_date=start,
        end_date=end,
        planned_months=parsed.get("planned_months"),
        nce_months=parsed.get("nce_months"),
        status=optional("status"),
        extra={raw: cells[index] for raw, index in extras.items() if cells[index]},
    )
    return record, problems


def _countries(name: str, number: int, text: str, header: str) -> tuple[list[CountryRef], list[Problem]]:
    """The countries of a ``countries`` cell ("Kenya; Viet Nam") and the problems with them."""
    refs: list[CountryRef] = []
    problems: list[Problem] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        if len(part) > MAX_COUNTRY:
            problems.append(Problem(name, number, header, f'"{part[:40]}…" is longer than {MAX_COUNTRY} characters'))
            continue
        country = _resolve(part)
        if country is None:
            problems.append(
                Problem(
                    name,
                    number,
                    header,
                    f'"{part}" is not a country lmreview knows; kept as written',
                    severity="warning",
                )
            )
            refs.append(CountryRef(name=part))
        else:
            refs.append(CountryRef(name=country.name, iso3=country.iso3))
    return refs, problems
